"""The system tools the browser and PDF tests need, installed by the project's own script."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@cache
def _install() -> str:
    """Run scripts/chromium.sh (installs Debian's chromium and poppler-utils when missing)."""
    result = subprocess.run([str(ROOT / "scripts" / "chromium.sh")], capture_output=True,
                            text=True, timeout=1800)
    if result.returncode != 0:
        return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
    return ""


def need(*tools: str) -> None:
    """Fail (not skip) when a tool is missing after the set-up script ran."""
    if all(shutil.which(t) for t in tools):
        return
    problem = _install()
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing after scripts/chromium.sh: {problem}")


def chromium_path() -> str:
    need("chromium")
    return shutil.which("chromium") or "/usr/bin/chromium"
