"""Shared fixtures: every test gets its own HAIA_HOME so run stores never mix."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def haia_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("haia-home")
    monkeypatch.setenv("HAIA_HOME", str(home))
    return home


def run_haia(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
             timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the ``haia`` CLI in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "haia.cli", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=timeout)


# -- registry databases: SQLite, and the PostgreSQL server scripts/postgres.sh starts --------
# The PostgreSQL URL comes from HAIA_TEST_POSTGRES_URL or from starting the project's own
# throw-away server. Without one the PostgreSQL cases skip, unless HAIA_REQUIRE_POSTGRES=1
# (as `make test` sets), when they fail.
@pytest.fixture(scope="session")
def postgres_base_url() -> str | None:
    url = os.environ.get("HAIA_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        done = subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "start"],
                              capture_output=True, text=True, timeout=600, check=True)
    except (subprocess.SubprocessError, OSError) as exc:
        if os.environ.get("HAIA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but could not be started: {exc}")
        return None
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path,
           postgres_base_url: str | None) -> Iterator[str]:
    """A fresh, empty registry database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    if postgres_base_url is None:
        pytest.skip("no PostgreSQL server (set HAIA_TEST_POSTGRES_URL or install postgresql)")
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(postgres_base_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
