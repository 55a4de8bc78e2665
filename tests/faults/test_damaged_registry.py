"""`haia verify` on a damaged registry file names the damage (exit 1), never a traceback."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from tests.conftest import run_haia


@pytest.fixture(scope="module")
def registry_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.registry.world import World

    folder = tmp_path_factory.mktemp("damaged-registry")
    old = os.environ.get("HAIA_HOME")
    os.environ["HAIA_HOME"] = str(folder / "home")
    try:
        w = World(f"sqlite:///{folder / 'registry.db'}", folder)
        w.audit("safety", w.deployment(users=50))
    finally:
        if old is None:
            os.environ.pop("HAIA_HOME", None)
        else:
            os.environ["HAIA_HOME"] = old
    return folder / "registry.db"


DAMAGE = {
    "payload a list": ("UPDATE ledger SET payload='[1,2]' WHERE seq=2", "not an object"),
    "payload a string": ("UPDATE ledger SET payload='\"text\"' WHERE seq=3", "not an object"),
    "payload not JSON": ("UPDATE ledger SET payload='nope' WHERE seq=2", "not valid JSON"),
    "bad datetime": ("UPDATE policies SET at='not a date' WHERE id=1", "policies"),
    "dropped table": ("DROP TABLE systems", "no such table: systems"),
    "dropped ledger": ("DROP TABLE ledger", "no such table: ledger"),
    "edited row": ("UPDATE systems SET intended_use='anything' WHERE id=1", "intended_use"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damage_is_named(case: str, registry_file: Path, tmp_path: Path) -> None:
    statement, words = DAMAGE[case]
    copy = tmp_path / "registry.db"
    shutil.copy(registry_file, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute(statement)
    result = run_haia("verify", "--db", f"sqlite:///{copy}", env={"HAIA_HOME": str(tmp_path)})
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    assert words in result.stderr
    assert all(line.startswith("TAMPERED ") for line in result.stderr.splitlines() if line)


def test_not_a_database_at_all(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    path.write_bytes(b"this is not SQLite" * 100)
    result = run_haia("verify", "--db", f"sqlite:///{path}", env={"HAIA_HOME": str(tmp_path)})
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (1, 2)
    assert len(result.stderr.strip().splitlines()) == 1
