"""Atomic file writes: a temporary file in the same folder, fsync, then rename over the target.

A reader (or a run killed half-way) sees either the old file or the complete new one, never a
truncated one; on a full disk the temporary file is removed and the old file stays. Every write
of a key, a signature, a report or a de-identified output goes through here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from haia.errors import HaiaError


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _default_mode() -> int:
    """The mode a plain ``open()`` would give a new file (0o666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def describe_os_error(exc: OSError, path: str | Path | None = None) -> str:
    """One line for an I/O failure: ``PATH: No space left on device``."""
    where = path if path is not None else (exc.filename or "")
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{where}: {reason}" if where else reason


@contextlib.contextmanager
def _discard_on_error(temporaries: list[Path], target: Path | None = None) -> Iterator[None]:
    """On any error remove the temporary files; an OSError becomes one HaiaError line."""
    try:
        yield
    except BaseException as exc:
        for tmp in temporaries:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if isinstance(exc, OSError):
            raise HaiaError(f"cannot write {describe_os_error(exc, target)}") from None
        raise


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = None, perms: int | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on a clean exit it replaces ``path``.

    ``mode`` is ``"w"`` (text) or ``"wb"``; ``perms`` sets the file mode (e.g. 0o600 for keys)
    before anything is written. On any error the temporary file is removed and ``path`` is left
    as it was; an :class:`OSError` becomes a :class:`HaiaError` naming the file.
    """
    if mode not in {"w", "wb"}:
        raise ValueError(f"atomic_open: mode {mode!r} (use 'w' or 'wb')")
    target = Path(path)
    if target.is_dir():
        raise HaiaError(f"{target}: is a folder, not a file")
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise HaiaError(f"cannot write {describe_os_error(exc, target)}") from None
    tmp = Path(tmp_name)
    with _discard_on_error([tmp], target):
        # mkstemp makes 0o600; a normal output gets the mode a plain open() would give it
        os.fchmod(fd, perms if perms is not None else _default_mode())
        if "b" in mode:
            handle: IO[Any] = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    _fsync_dir(folder)


def atomic_write(path: str | Path, data: str | bytes, *, perms: int | None = None) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically; return ``path``."""
    mode = "wb" if isinstance(data, bytes) else "w"
    with atomic_open(path, mode, perms=perms) as handle:
        handle.write(data)
    return Path(path)


def atomic_write_many(files: dict[Path, str | bytes]) -> None:
    """Write several files so that none is replaced until every one is safely on disk.

    Each is staged as a fsynced temporary file first; only then are they renamed in turn (a
    rename is atomic and takes microseconds), so a failure or a full disk while staging leaves
    every old file in place, and the window in which old and new could sit side by side is the
    few renames at the end. The last file of ``files`` is renamed last (make it the one readers
    check, such as ``report.json``).
    """
    staged: list[tuple[Path, Path]] = []
    temporaries: list[Path] = []
    with _discard_on_error(temporaries):
        for target, data in files.items():
            target = Path(target)
            if target.is_dir():
                raise HaiaError(f"{target}: is a folder, not a file")
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                            dir=target.parent)
            staged.append((Path(tmp_name), target))
            temporaries.append(Path(tmp_name))
            os.fchmod(fd, _default_mode())
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, target in staged:
            os.replace(tmp, target)
    for folder in {target.parent for _, target in staged}:
        _fsync_dir(folder)


def atomic_create(path: str | Path, data: bytes, *, perms: int = 0o600) -> Path:
    """Create ``path`` with ``data`` only if it does not exist yet, never half-written.

    The content is staged and fsynced as a temporary file, then hard-linked into place (a link
    fails if the name is taken, so an existing file is never overwritten); a failure leaves no
    file behind. Raises :class:`FileExistsError` when ``path`` exists.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise HaiaError(f"cannot write {describe_os_error(exc, target)}") from None
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, perms)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError as exc:
        raise HaiaError(f"cannot write {describe_os_error(exc, target)}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    _fsync_dir(folder)
    return target


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for code that opens its output itself; when the block
    ends cleanly the file is fsynced and renamed over ``path``, otherwise it is removed."""
    target = Path(path)
    if target.is_dir():
        raise HaiaError(f"{target}: is a folder, not a file")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise HaiaError(f"{target}: no such folder {folder}")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise HaiaError(f"cannot write {describe_os_error(exc, target)}") from None
    tmp = Path(tmp_name)
    with _discard_on_error([tmp], target):
        yield tmp
        os.chmod(tmp, _default_mode())
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    _fsync_dir(folder)
