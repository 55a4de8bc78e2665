"""The PDF rendered by a forked child while the parent writes the other formats.

After an audit the model server is idle and a second core is free; the PDF (its PNG charts and
the fpdf2 layout, about 0.55 s of a 0.8 s report stage) is the one format that needs none of the
others. On Linux, :func:`start` forks the process after the report dict is built (every module
already imported, so the child starts in microseconds and shares the parent's memory
copy-on-write), the child renders and sends the bytes back through a pipe and leaves with
``os._exit``; the parent meanwhile renders the SVG charts, the HTML and the JSON. Correctness never
depends on the child: if it cannot be forked the PDF is rendered with the other formats, and if
it fails, is killed or sends nothing, :meth:`PdfJob.result` renders it in the parent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import warnings
from collections.abc import Callable
from typing import Any

Render = Callable[[dict[str, Any]], bytes]


def render_in_process(report: dict[str, Any]) -> bytes:
    """The PDF of ``report`` with its own PNG charts (what the child runs)."""
    from haia.report.charts import build_charts
    from haia.report.pdf import render_pdf

    return render_pdf(report, build_charts(report, {"png"}))


class PdfJob:
    """A PDF being rendered by the forked child ``pid``, whose bytes arrive on ``fd``."""

    def __init__(self, report: dict[str, Any], render: Render, pid: int, fd: int) -> None:
        self.report, self.render = report, render
        self.pid: int | None = pid
        self.fd: int | None = fd

    def result(self) -> bytes:
        """The PDF bytes: the child's when it finished cleanly, else rendered here."""
        data = self._collect() if self.pid is not None else None
        return data if data is not None else self.render(self.report)

    def _collect(self) -> bytes | None:
        chunks = []
        try:
            assert self.fd is not None
            while chunk := os.read(self.fd, 1 << 20):
                chunks.append(chunk)
        except OSError:
            chunks = []
        status = self._reap(wait=True)
        ok = status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        return b"".join(chunks) if ok and chunks else None

    def _reap(self, *, wait: bool) -> int | None:
        """Close the pipe; wait for the child (``wait``) or kill it; its exit status."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        pid, self.pid = self.pid, None
        if pid is None:
            return None
        with contextlib.suppress(OSError):
            if not wait:
                os.kill(pid, signal.SIGKILL)
            return os.waitpid(pid, 0)[1]
        return None

    def cancel(self) -> None:
        """Stop the child, if any, and reap it (the report was not needed after all)."""
        self._reap(wait=False)


def start(report: dict[str, Any], render: Render = render_in_process) -> PdfJob | None:
    """Start rendering ``report``'s PDF in a forked child where that is safe (Linux); ``None``
    when no child was started (the caller renders the PDF with the other formats)."""
    if sys.platform != "linux" or os.environ.get("HAIA_REPORT_FORK", "1") == "0":
        return None
    try:
        read, write = os.pipe()
    except OSError:
        return None
    with warnings.catch_warnings():  # Python 3.12+ warns about forking with threads alive
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
    if pid == 0:  # the child: render, send, leave without running the parent's exit handlers
        code = 1
        try:
            os.close(read)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            data = render(report)
            view = memoryview(data)
            while view:
                view = view[os.write(write, view):]
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return PdfJob(report, render, pid, read)
