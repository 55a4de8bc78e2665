"""Stops the local Ray instance an audit started when that audit ends, however it ends.

``ray.init()`` without an address starts a head node for this process (GCS server, raylet,
agents, workers). When the audit exits normally Ray stops them; when it is killed (SIGKILL, the
OOM killer) the raylet's dashboard and runtime-environment agents outlive it (measured:
``tests/faults/test_kill_ray.py``). :func:`guard` starts a small reaper in a session of its own
that holds a pipe from the audit and, while the audit lives, notes every Ray process descended
from it (their titles or paths name Ray). When the pipe closes, whatever ended the audit, it
stops those still running. A cluster given with ``--ray-address`` is never touched: its
processes are not the audit's descendants.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import time
from typing import Any

GRACE_S = 3.0
"""How long Ray's processes have to stop after SIGTERM before SIGKILL."""
POLL_S = 0.5
"""How often the reaper looks for new Ray processes under the audit."""


def is_ray(cmdline: list[str]) -> bool:
    """Whether a command line is one of Ray's processes."""
    text = " ".join(cmdline)
    return text.startswith("ray::") or f"{os.sep}ray{os.sep}" in text


def ray_descendants(pid: int) -> list[Any]:
    """Ray's processes (psutil) descended from process ``pid``."""
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if is_ray(child.cmdline()):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def reap(procs: list[Any]) -> int:
    """Stop ``procs`` still running (SIGTERM, then SIGKILL after :data:`GRACE_S`); psutil
    refuses a pid reused by another process. Return how many were running."""
    import psutil

    running = []
    for proc in procs:
        try:
            if proc.is_running():
                proc.terminate()
                running.append(proc)
        except psutil.NoSuchProcess:
            continue
    _gone, alive = psutil.wait_procs(running, timeout=GRACE_S)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    return len(running)


def watch(driver: int, stream: Any) -> int:
    """Note the Ray processes under ``driver`` until ``stream`` closes, then stop those left;
    return how many were stopped."""
    seen: dict[tuple[int, float], Any] = {}
    fd = stream.fileno()
    while True:
        for proc in ray_descendants(driver):
            try:
                seen.setdefault((proc.pid, proc.create_time()), proc)
            except Exception:  # gone between the listing and the look
                continue
        ready, _, _ = select.select([fd], [], [], POLL_S)
        if ready and not os.read(fd, 65536):
            break
    time.sleep(0.5)  # a normal exit stops Ray itself first: stop only what it left
    return reap(list(seen.values()))


_REAPER: subprocess.Popen[bytes] | None = None


def guard() -> None:
    """Start this process's reaper (once: it watches every local Ray instance this process
    starts, for as long as the process lives). Best effort: without it Ray runs as before."""
    global _REAPER
    if _REAPER is not None and _REAPER.poll() is None:
        return
    try:
        _REAPER = subprocess.Popen([sys.executable, "-m", "haia.runner.ray_reaper",
                                    str(os.getpid())], stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
    except OSError:
        _REAPER = None


if __name__ == "__main__":
    watch(int(sys.argv[1]), sys.stdin.buffer)
