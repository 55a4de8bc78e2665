"""A small HTTP/1.1 client on raw asyncio streams, with a keep-alive connection pool.

Chosen by measurement (see ``bench/harness_overhead.py`` and the README): at concurrency 64 a
plain httpx AsyncClient spends most of its time in its own connection-pool bookkeeping, aiohttp
adds about 16 % to the ideal wall time, and this pool stays within a few per cent. It speaks only
what chat-completion APIs need: one request per connection at a time, ``Content-Length`` and
``chunked`` response bodies, TLS through :mod:`ssl`, and incremental reads for server-sent events.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from haia.errors import HaiaError

MAX_HEADER_BYTES = 64 * 1024


class HttpError(HaiaError):
    """The exchange failed before a complete response arrived.

    ``sent_nothing_back`` is true when the server closed the connection without a single byte of
    response: on a reused keep-alive connection that usually means it had timed the connection out.
    """

    def __init__(self, message: str, *, sent_nothing_back: bool = False,
                 reused: bool = False) -> None:
        super().__init__(message)
        self.sent_nothing_back = sent_nothing_back
        self.reused = reused


@dataclass
class HttpResponse:
    """A complete response: status, lower-cased headers and the body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0
    uses: int = 0

    def usable(self, expiry: float) -> bool:
        return (not self.reader.at_eof() and not self.writer.is_closing()
                and time.monotonic() - self.idle_since < expiry)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class ConnectionPool:
    """Keep-alive connections to one origin, at most ``max_connections`` in use at once."""

    def __init__(self, base_url: str, *, max_connections: int = 64,
                 keepalive_expiry: float = 4.0, connect_timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/")
        default_port = self.port == (443 if self.scheme == "https" else 80)
        self.host_header = self.host if default_port else f"{self.host}:{self.port}"
        if ":" in self.host and not default_port:
            self.host_header = f"[{self.host}]:{self.port}"
        self._ssl = ssl.create_default_context() if self.scheme == "https" else None
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(max_connections)
        self._expiry = keepalive_expiry
        self._connect_timeout = connect_timeout
        self._closed = False

    async def _acquire(self) -> _Connection:
        while self._idle:
            conn = self._idle.pop()
            if conn.usable(self._expiry):
                return conn
            conn.close()
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self._ssl, limit=MAX_HEADER_BYTES * 16)
        except TimeoutError as exc:
            raise HttpError(f"connecting to {self.host_header} timed out") from exc
        except OSError as exc:
            raise HttpError(f"cannot connect to {self.host_header}: {exc.strerror or exc}") from exc
        return _Connection(reader, writer)

    def _release(self, conn: _Connection, keep: bool) -> None:
        if keep and not self._closed:
            conn.idle_since = time.monotonic()
            conn.uses += 1
            self._idle.append(conn)
        else:
            conn.close()

    def _head(self, method: str, path: str, headers: dict[str, str], length: int) -> bytes:
        lines = [f"{method} {self.base_path}{path} HTTP/1.1", f"Host: {self.host_header}",
                 "Accept-Encoding: identity", f"Content-Length: {length}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> HttpResponse:
        """Send one request and read the whole response."""
        async with self.stream(method, path, body, headers) as (status, resp_headers, chunks):
            data = bytearray()
            async for chunk in chunks:
                data += chunk
        return HttpResponse(status, resp_headers, bytes(data))

    @contextlib.asynccontextmanager
    async def stream(self, method: str, path: str, body: bytes = b"",
                     headers: dict[str, str] | None = None
                     ) -> AsyncIterator[tuple[int, dict[str, str], AsyncIterator[bytes]]]:
        """Send one request; yield its status, headers and an iterator over body chunks."""
        if self._closed:
            raise HttpError("connection pool is closed")
        async with self._slots:
            conn = await self._acquire()
            reused = conn.uses > 0
            keep = False
            try:
                conn.writer.write(self._head(method, path, headers or {}, len(body)) + body)
                status, resp_headers = await _read_head(conn.reader, reused)
                state = _BodyState(conn.reader, resp_headers, method)
                yield status, resp_headers, state.chunks()
                # Drain what the caller did not read, so the connection can be reused.
                async for _ in state.chunks():
                    pass
                keep = state.complete and resp_headers.get("connection", "").lower() != "close"
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ssl.SSLError) as exc:
                raise HttpError(f"connection to {self.host_header} failed: {exc!r}",
                                reused=reused) from exc
            finally:
                self._release(conn, keep)

    async def aclose(self) -> None:
        """Close every idle connection; connections in use close when released."""
        self._closed = True
        while self._idle:
            self._idle.pop().close()


async def _read_head(reader: asyncio.StreamReader, reused: bool) -> tuple[int, dict[str, str]]:
    while True:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise HttpError("server closed the connection without a response",
                            sent_nothing_back=not exc.partial, reused=reused) from exc
        except asyncio.LimitOverrunError as exc:
            raise HttpError("response headers too large") from exc
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise HttpError(f"malformed status line {lines[0][:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:  # informational (100 Continue): read the real response
            continue
        return status, headers


class _BodyState:
    """Reads a response body framed by Content-Length, chunked encoding or connection close."""

    def __init__(self, reader: asyncio.StreamReader, headers: dict[str, str],
                 method: str) -> None:
        self.reader = reader
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        self.remaining: int | None = int(length) if length and length.isdigit() else None
        if method == "HEAD":
            self.remaining = 0
        self.complete = False
        self._done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._done:
            return
        try:
            if self.chunked:
                while True:
                    try:
                        size_line = await self.reader.readuntil(b"\r\n")
                        size = int(size_line.split(b";")[0].strip() or b"0", 16)
                    except (ValueError, asyncio.LimitOverrunError) as exc:
                        raise HttpError("malformed chunked body (bad chunk size)") from exc
                    if size < 0:
                        raise HttpError("malformed chunked body (negative chunk size)")
                    if size == 0:
                        while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                            pass  # trailers
                        break
                    data = await self.reader.readexactly(size + 2)
                    yield data[:-2]
            elif self.remaining is not None:
                while self.remaining > 0:
                    data = await self.reader.read(min(self.remaining, 65536))
                    if not data:
                        raise asyncio.IncompleteReadError(b"", self.remaining)
                    self.remaining -= len(data)
                    yield data
            else:
                while data := await self.reader.read(65536):
                    yield data
                self._done = True
                return  # framed by close: never reusable
            self.complete = True
        finally:
            self._done = True
