"""A de-identifying OpenAI-compatible gateway (FastAPI + uvicorn).

``POST /v1/chat/completions``: every message's text is de-identified with consistent surrogates
(one scope per request, so the same name is the same fake name in every message) before the
request goes upstream; the answer's surrogates are put back for the caller when ``restore`` is on
(also while streaming: text that could be the start of a surrogate is held back until it can be
decided). ``GET /v1/models`` is passed through. The log says which KINDS of PHI were removed and
how many, never the values.

The upstream call reuses :class:`haia.models.http.ConnectionPool`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from haia.privacy.anonymize import Anonymizer, Scope
from haia.privacy.detector import Detector, default_detector

log = logging.getLogger("haia.privacy.gateway")


class StreamRestorer:
    """Restores surrogates in streamed text, holding back a tail that may be a partial one."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.fakes = [f for f in scope.reverse if f and not f.startswith("[")]
        self.buffer = ""

    def _held(self) -> int:
        """Length of the longest buffer suffix that is a prefix of a surrogate."""
        best = 0
        for fake in self.fakes:
            for n in range(min(len(fake), len(self.buffer)), best, -1):
                if fake.startswith(self.buffer[-n:]) or fake.upper().startswith(self.buffer[-n:]):
                    best = n
                    break
        return best

    def feed(self, text: str) -> str:
        self.buffer += text
        if not self.fakes:
            out, self.buffer = self.buffer, ""
            return out
        held = self._held()
        cut = len(self.buffer) - held
        out, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return self.scope.restore(out)

    def flush(self) -> str:
        out, self.buffer = self.buffer, ""
        return self.scope.restore(out)


class Gateway:
    """The de-identification logic, independent of the web framework."""

    def __init__(self, upstream: str, *, detector: Detector | None = None, restore: bool = True,
                 api_key: str | None = None, seed: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.detector = detector or default_detector()
        self.restore = restore
        self.api_key = api_key
        self.anonymizer = Anonymizer("surrogate", seed=seed)
        self._pool: Any = None

    @property
    def pool(self) -> Any:
        from haia.models.http import ConnectionPool

        if self._pool is None:
            self._pool = ConnectionPool(self.upstream)
        return self._pool

    def deidentify(self, body: dict[str, Any]) -> tuple[dict[str, Any], Scope]:
        """A copy of the chat request with every message's text de-identified."""
        scope = Scope(f"req-{time.monotonic_ns()}-{os.getpid()}", self.anonymizer.seed)
        slots: list[tuple[dict[str, Any], str]] = []
        messages = []
        for message in body.get("messages") or []:
            if not isinstance(message, dict):
                messages.append(message)
                continue
            new = dict(message)
            content = message.get("content")
            if isinstance(content, str):
                slots.append((new, "content"))
            elif isinstance(content, list):
                new["content"] = [dict(p) if isinstance(p, dict) else p for p in content]
                for part in new["content"]:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        slots.append((part, "text"))
            messages.append(new)
        texts = [holder[key] for holder, key in slots]
        for (holder, key), text, ents in zip(slots, texts, self.detector.detect_batch(texts),
                                             strict=True):
            holder[key] = self.anonymizer.anonymize(text, ents, scope)
        out = dict(body)
        out["messages"] = messages
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(scope.counts.items())) or "none"
        log.info("de-identified %d message(s); PHI removed: %s", len(messages), kinds)
        return out, scope

    def headers(self, incoming: dict[str, str]) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        elif incoming.get("authorization"):
            headers["Authorization"] = incoming["authorization"]
        return headers

    def restore_json(self, data: dict[str, Any], scope: Scope) -> dict[str, Any]:
        if not self.restore:
            return data
        for choice in data.get("choices") or []:
            message = choice.get("message") if isinstance(choice, dict) else None
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                message["content"] = scope.restore(message["content"])
        return data

    async def restore_stream(self, chunks: AsyncIterator[bytes], scope: Scope
                             ) -> AsyncIterator[bytes]:
        """Re-emit an SSE stream, restoring surrogates in ``delta.content``."""
        restorers: dict[int, StreamRestorer] = {}
        pending = b""
        async for chunk in chunks:
            pending += chunk
            while b"\n\n" in pending:
                event, pending = pending.split(b"\n\n", 1)
                yield self._event(event, scope, restorers) + b"\n\n"
        if pending.strip():
            yield self._event(pending, scope, restorers) + b"\n\n"

    def _event(self, event: bytes, scope: Scope, restorers: dict[int, StreamRestorer]) -> bytes:
        text = event.decode("utf-8", errors="replace").strip()
        if not self.restore or not text.startswith("data:"):
            return event
        payload = text[5:].strip()
        if payload == "[DONE]":
            return event
        try:
            data = json.loads(payload)
        except ValueError:
            return event
        for choice in data.get("choices") or []:
            index = choice.get("index", 0)
            restorer = restorers.setdefault(index, StreamRestorer(scope))
            delta = choice.get("delta") or {}
            piece = delta.get("content")
            if isinstance(piece, str):
                delta["content"] = restorer.feed(piece)
            if choice.get("finish_reason"):
                rest = restorer.flush()
                if rest:
                    delta["content"] = (delta.get("content") or "") + rest
                choice["delta"] = delta
        return f"data: {json.dumps(data)}".encode()


def create_app(gateway: Gateway) -> FastAPI:
    """The FastAPI application serving ``gateway``."""
    app = FastAPI(title="haia de-identifying gateway")

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": "gateway_error",
                                       "param": None, "code": None}}, status_code=status)

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        try:
            resp = await gateway.pool.request("GET", "/models",
                                              headers=gateway.headers(dict(request.headers)))
        except Exception as exc:
            return error(502, f"upstream unavailable: {type(exc).__name__}")
        return Response(resp.body, status_code=resp.status, media_type="application/json")

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                raise ValueError("'messages' must be a list")
        except ValueError as exc:
            return error(400, f"invalid request body: {exc}")
        clean, scope = await asyncio.to_thread(gateway.deidentify, body)
        payload = json.dumps(clean).encode()
        headers = gateway.headers(dict(request.headers))
        if not body.get("stream"):
            try:
                resp = await gateway.pool.request("POST", "/chat/completions", payload, headers)
            except Exception as exc:
                return error(502, f"upstream unavailable: {type(exc).__name__}")
            if resp.status != 200:
                return Response(resp.body, status_code=resp.status,
                                media_type="application/json")
            data = gateway.restore_json(json.loads(resp.body), scope)
            return JSONResponse(data)

        async def events() -> AsyncIterator[bytes]:
            async with gateway.pool.stream("POST", "/chat/completions", payload,
                                           headers) as (status, _h, chunks):
                if status != 200:
                    body_bytes = b"".join([c async for c in chunks])
                    yield b"data: " + body_bytes + b"\n\n"
                    return
                async for out in gateway.restore_stream(chunks, scope):
                    yield out

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def serve(gateway: Gateway, host: str = "127.0.0.1", port: int = 8808) -> None:
    """Serve until interrupted."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(create_app(gateway), host=host, port=port, log_level="warning")


class GatewayServer:
    """Runs a gateway in a background thread (tests): ``with GatewayServer(gw) as url: ...``."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(create_app(gateway), host=host, port=self.port,
                                log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.base_url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            self.thread.join(10)
