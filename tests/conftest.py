"""Shared fixtures: every test gets its own HAIA_HOME so run stores never mix."""

from __future__ import annotations

import os
import subprocess
import sys
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
