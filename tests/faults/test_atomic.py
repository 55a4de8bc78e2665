"""The one atomic-write helper: old file intact on failure, nothing left behind, modes kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from haia.atomic import atomic_create, atomic_open, atomic_path, atomic_write, atomic_write_many
from haia.errors import HaiaError


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_replaces_and_a_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    atomic_write(target, "old")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("half of the new one")
        raise RuntimeError("killed half-way")
    assert target.read_text() == "old" and _names(tmp_path) == ["report.json"]
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_to_a_folder_or_a_missing_folder_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(HaiaError, match="is a folder"):
        atomic_write(tmp_path, "x")
    with pytest.raises(HaiaError, match="No such file or directory"):
        atomic_write(tmp_path / "missing" / "f.txt", "x")


def test_many_replaces_none_when_one_fails(tmp_path: Path) -> None:
    atomic_write_many({tmp_path / "a": "old a", tmp_path / "b": "old b"})
    (tmp_path / "c").mkdir()
    with pytest.raises(HaiaError):
        atomic_write_many({tmp_path / "a": "new a", tmp_path / "c": "x", tmp_path / "b": "new"})
    assert (tmp_path / "a").read_text() == "old a" and (tmp_path / "b").read_text() == "old b"
    assert _names(tmp_path) == ["a", "b", "c"]


def test_create_never_overwrites_and_keeps_its_mode(tmp_path: Path) -> None:
    key = tmp_path / "alice.key"
    atomic_create(key, b"secret", perms=0o600)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        atomic_create(key, b"other")
    assert key.read_bytes() == b"secret" and _names(tmp_path) == ["alice.key"]


def test_path_is_renamed_only_when_complete(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with pytest.raises(ValueError), atomic_path(out) as tmp:
        tmp.write_text("partial")
        raise ValueError("bad record")
    assert _names(tmp_path) == []
    with atomic_path(out) as tmp:
        tmp.write_text("whole")
    assert out.read_text() == "whole" and _names(tmp_path) == ["out.txt"]
