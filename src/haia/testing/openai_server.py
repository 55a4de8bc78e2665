"""A scriptable OpenAI-compatible chat-completions server on 127.0.0.1, for tests and benches.

It speaks enough of the protocol for the official ``openai`` client: ``POST /v1/chat/completions``
(plain JSON or server-sent events when ``stream`` is true), ``GET /v1/models``. What it answers is
decided by a *responder*, a function of the request body returning the answer text or a
:class:`Reply` (status, delay, headers, a dropped connection). Bursts of failures are scripted with
:meth:`ScriptedServer.fail_next` and :meth:`ScriptedServer.drop_next`; every chat request body is
kept in :attr:`ScriptedServer.requests`.

In a test::

    with ScriptedServer(lambda body: "B", latency=0.05) as server:
        ... f"openai:m@{server.base_url}" ...

From a shell (prints the base URL, then serves until killed)::

    python -m haia.testing.openai_server --port 0 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           408: "Request Timeout", 413: "Payload Too Large", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class Reply:
    """A scripted answer. ``delay`` overrides the server latency; ``drop`` closes the connection
    without answering; a ``status`` of 400 or more sends an OpenAI-style error body whose
    message is ``text``."""

    text: str = ""
    status: int = 200
    delay: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    usage: dict[str, Any] | None = None
    finish_reason: str = "stop"
    raw: bytes | None = None
    """Bytes sent as the whole response instead of a proper one (then the connection closes):
    for malformed answers, see :data:`MALFORMED`."""


Responder = Callable[[dict[str, Any]], "str | Reply"]


def always_b(body: dict[str, Any]) -> str:
    """Default responder: the letter B, whatever the question."""
    return "B"


def count_tokens(text: str) -> int:
    """A rough token count (words and punctuation), for the usage field."""
    return max(1, len(text.split())) if text else 0


def _message_text(body: dict[str, Any]) -> str:
    out = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out += [p.get("text", "") for p in content if isinstance(p, dict)]
    return "\n".join(out)


class ScriptedServer:
    """The server. Use as a context manager (runs in a background thread) or ``serve()``."""

    def __init__(self, responder: Responder | None = None, *, latency: float = 0.0,
                 host: str = "127.0.0.1", port: int = 0, model: str = "scripted") -> None:
        self.responder = responder or always_b
        self.latency = latency
        self.host = host
        self.port = port
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._failures: list[tuple[int, float | None]] = []
        self._drops = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # -- scripting -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def fail_next(self, n: int, status: int = 500, retry_after: float | None = None) -> None:
        """The next ``n`` chat requests get ``status`` (with ``Retry-After`` if given)."""
        with self._lock:
            self._failures += [(status, retry_after)] * n

    def drop_next(self, n: int) -> None:
        """The next ``n`` chat requests have their connection closed without an answer."""
        with self._lock:
            self._drops += n

    def _scripted(self) -> Reply | None:
        with self._lock:
            if self._drops:
                self._drops -= 1
                return Reply(drop=True)
            if self._failures:
                status, retry_after = self._failures.pop(0)
                headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
                return Reply(status=status, headers=headers)
        return None

    # -- lifecycle -------------------------------------------------------------------------
    async def start_async(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port,
                                                  backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    def __enter__(self) -> ScriptedServer:
        self._thread = threading.Thread(target=self._thread_main, name="scripted-openai",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("scripted server did not start")
        return self

    def _thread_main(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.start_async())
        self._ready.set()
        self._loop.run_forever()
        if self._server is not None:
            self._server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:  # connections still open: end them quietly
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    # -- protocol --------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                method, path, headers, body = request
                keep = await self._respond(method, path, headers, body, writer)
                if not keep or headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(self, method: str, path: str, headers: dict[str, str], raw: bytes,
                       writer: asyncio.StreamWriter) -> bool:
        path = path.split("?", 1)[0]
        if method == "GET" and path.rstrip("/").endswith("/models"):
            data = {"object": "list", "data": [{"id": self.model, "object": "model",
                                                "created": 0, "owned_by": "haia"}]}
            await _send_json(writer, 200, data)
            return True
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            await _send_json(writer, 404, _error(f"no route {method} {path}", "not_found"))
            return True
        try:
            body = json.loads(raw)
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                raise ValueError("'messages' must be a list")
        except ValueError as exc:
            await _send_json(writer, 400, _error(f"invalid request body: {exc}"))
            return True
        self.requests.append(body)
        self.headers_seen.append(headers)
        reply = self._scripted()
        if reply is None:
            answer = self.responder(body)
            reply = answer if isinstance(answer, Reply) else Reply(text=str(answer))
        delay = self.latency if reply.delay is None else reply.delay
        if delay > 0:
            await asyncio.sleep(delay)
        if reply.drop:
            return False
        if reply.raw is not None:
            writer.write(reply.raw)
            await writer.drain()
            return False
        if reply.status >= 400:
            message = reply.text or f"scripted error {reply.status}"
            await _send_json(writer, reply.status, _error(message, "server_error"), reply.headers)
            return True
        usage = reply.usage or {"prompt_tokens": count_tokens(_message_text(body)),
                                "completion_tokens": count_tokens(reply.text)}
        if reply.usage is None:
            usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
        ident = f"chatcmpl-{uuid.uuid4().hex[:16]}"
        model = str(body.get("model") or self.model)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            await _send_stream(writer, ident, model, reply, usage if include_usage else None)
            return True
        data = {"id": ident, "object": "chat.completion", "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                             "message": {"role": "assistant", "content": reply.text}}],
                "usage": usage}
        await _send_json(writer, 200, data, reply.headers)
        return True


def _http(body: bytes, *, status: str = "200 OK", content_type: str = "application/json",
          extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode("latin-1") + body


def _completion(usage: str = '{"prompt_tokens": 3, "completion_tokens": 1}',
                content: str = '"B"') -> bytes:
    return ('{"id": "x", "object": "chat.completion", "model": "scripted", "choices": '
            f'[{{"index": 0, "finish_reason": "stop", "message": {{"role": "assistant", '
            f'"content": {content}}}}}], "usage": {usage}}}').encode()


MALFORMED: dict[str, bytes] = {
    "html": _http(b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                  content_type="text/html"),
    "html_error_page": _http(b"<html><body>Service Unavailable</body></html>",
                             status="503 Service Unavailable", content_type="text/html"),
    "empty_body": _http(b""),
    "not_json": _http(b"B"),
    "truncated_json": _http(_completion()[:40]),
    "json_array": _http(b"[1, 2, 3]"),
    "no_choices": _http(b'{"choices": []}'),
    "choices_not_list": _http(b'{"choices": "B"}'),
    "message_not_object": _http(b'{"choices": [{"message": "B"}]}'),
    "content_number": _http(_completion(content="42")),
    "usage_string": _http(_completion('{"prompt_tokens": "abc", "completion_tokens": 1}')),
    "usage_nan": _http(_completion('{"prompt_tokens": NaN, "completion_tokens": 1}')),
    "usage_infinity": _http(_completion('{"prompt_tokens": 1, "completion_tokens": Infinity}')),
    "usage_negative": _http(_completion('{"prompt_tokens": -4, "completion_tokens": 1}')),
    "usage_float": _http(_completion('{"prompt_tokens": 2.5, "completion_tokens": 1}')),
    "usage_huge": _http(_completion('{"prompt_tokens": 1e400, "completion_tokens": 1}')),
    "usage_list": _http(_completion('[1, 2]')),
    "bad_chunk_size": (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    "truncated_chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"ff\r\n{\"choices\": "),
    "short_body": (b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + _completion()),
    "bad_status_line": b"HTTP/1.1 OK\r\n\r\n",
    "not_http": b"SSH-2.0-OpenSSH_9.6\r\n",
    "garbage_bytes": bytes(range(256)) * 4,
    "header_not_latin1": _http(_completion(), extra="X-Note: caf\u00e9\r\n"),
    "invalid_utf8_body": _http(b'{"choices": [{"message": {"content": "\xff\xfe"}}]}'),
}
"""Every malformed shape of answer the fault-injection tests script, by name."""


def _error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


async def _read_request(reader: asyncio.StreamReader
                        ) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += (await reader.readexactly(size + 2))[:-2]
        return method, path, headers, bytes(body)
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return method, path, headers, body


async def _send_json(writer: asyncio.StreamWriter, status: int, data: Any,
                     headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(data).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n{extra}\r\n")
    writer.write(head.encode("latin-1") + payload)
    await writer.drain()


async def _send_stream(writer: asyncio.StreamWriter, ident: str, model: str, reply: Reply,
                       usage: dict[str, int] | None) -> None:
    head = ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    writer.write(head.encode("latin-1"))
    created = int(time.time())

    def event(choices: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> bytes:
        chunk = {"id": ident, "object": "chat.completion.chunk", "created": created,
                 "model": model, "choices": choices, **(extra or {})}
        data = f"data: {json.dumps(chunk)}\n\n".encode()
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    writer.write(event([{"index": 0, "delta": {"role": "assistant", "content": ""},
                         "finish_reason": None}]))
    words = reply.text.split(" ")
    for k, word in enumerate(words):
        piece = word if k == len(words) - 1 else word + " "
        writer.write(event([{"index": 0, "delta": {"content": piece}, "finish_reason": None}]))
        await writer.drain()
    writer.write(event([{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]))
    if usage is not None:
        writer.write(event([], {"usage": usage}))
    done = b"data: [DONE]\n\n"
    writer.write(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
    await writer.drain()


def main() -> None:
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible test server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--answer", default="B", help="the text every request gets")
    args = parser.parse_args()
    server = ScriptedServer(lambda body: args.answer, latency=args.latency, host=args.host,
                            port=args.port)

    async def serve() -> None:
        await server.start_async()
        print(server.base_url, flush=True)
        assert server._server is not None
        await server._server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
