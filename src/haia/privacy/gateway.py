"""A de-identifying OpenAI-compatible gateway (FastAPI + uvicorn).

``POST /v1/chat/completions`` and ``POST /v1/completions``: the request is rebuilt from an
allow-list (:mod:`haia.privacy.allowlist`): free text anywhere in it (message content, tool
definitions and tool-call arguments, ``stop``, JSON inside text) is de-identified with consistent
surrogates (one scope per request, so the same name is the same fake name in every field),
identifiers the protocol needs are kept only when they hold no PHI, and every other field
(message ``name``, ``user``, ``metadata``, images, unknown extras) is dropped. The answer's
surrogates are put back for the caller when ``restore`` is on (in content, refusals and tool-call
arguments, also while streaming: text that could be the start of a surrogate is held back until
it can be decided). ``GET /v1/models`` is passed through; the Responses API is not served (404).
The log says which KINDS of PHI were removed, how many, and which fields were dropped, never
the values.

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

from haia.privacy.allowlist import Sanitized, clean_chat, clean_completion, restore_names
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

    def new_scope(self) -> Scope:
        return Scope(f"req-{time.monotonic_ns()}-{os.getpid()}", self.anonymizer.seed)

    def sanitize(self, body: dict[str, Any], endpoint: str = "chat") -> Sanitized:
        """The allow-listed, de-identified copy of a request (``chat`` or ``completions``)."""
        clean = clean_chat if endpoint == "chat" else clean_completion
        result = clean(body, self.detector, self.anonymizer, self.new_scope())
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(result.scope.counts.items())) or "none"
        dropped = ", ".join(sorted(set(result.dropped))) or "none"
        if len(dropped) > 300:
            dropped = dropped[:300] + "..."
        log.info("de-identified a %s request; PHI removed: %s; fields dropped: %s",
                 endpoint, kinds, dropped if _field_names_only(result.dropped) else
                 f"{len(result.dropped)}")
        return result

    def deidentify(self, body: dict[str, Any]) -> tuple[dict[str, Any], Scope]:
        """A copy of the chat request that is safe to forward, and its surrogate scope."""
        result = self.sanitize(body)
        return result.body, result.scope

    def headers(self, incoming: dict[str, str]) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        elif incoming.get("authorization"):
            headers["Authorization"] = incoming["authorization"]
        return headers

    def restore_json(self, data: dict[str, Any], clean: Sanitized) -> dict[str, Any]:
        """A non-streamed answer with surrogates (and tokenised names) put back."""
        if not self.restore:
            return data
        scope = clean.scope
        if isinstance(data.get("model"), str):
            data["model"] = restore_names(data["model"], clean.names)
        for choice in data.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            if isinstance(choice.get("text"), str):
                choice["text"] = scope.restore(choice["text"])
            message = choice.get("message")
            if not isinstance(message, dict):
                continue
            for key in ("content", "refusal"):
                if isinstance(message.get(key), str):
                    message[key] = scope.restore(message[key])
            calls = list(message.get("tool_calls") or [])
            if isinstance(message.get("function_call"), dict):
                calls.append({"function": message["function_call"]})
            for call in calls:
                if not isinstance(call, dict):
                    continue
                if "id" in call:
                    call["id"] = restore_names(call["id"], clean.names)
                fn = call.get("function")
                if isinstance(fn, dict):
                    fn["name"] = restore_names(fn.get("name"), clean.names)
                    if isinstance(fn.get("arguments"), str):
                        fn["arguments"] = scope.restore(fn["arguments"])
        return data

    async def restore_stream(self, chunks: AsyncIterator[bytes], clean: Sanitized
                             ) -> AsyncIterator[bytes]:
        """Re-emit an SSE stream, restoring surrogates in content, text and tool arguments."""
        restorers: dict[Any, StreamRestorer] = {}
        pending = b""
        async for chunk in chunks:
            pending += chunk
            while b"\n\n" in pending:
                event, pending = pending.split(b"\n\n", 1)
                yield self._event(event, clean, restorers) + b"\n\n"
        if pending.strip():
            yield self._event(pending, clean, restorers) + b"\n\n"

    def _event(self, event: bytes, clean: Sanitized, restorers: dict[Any, StreamRestorer]
               ) -> bytes:
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
        if not isinstance(data, dict):
            return event
        scope = clean.scope

        def feed(key: Any, holder: dict[str, Any], field: str) -> None:
            piece = holder.get(field)
            if isinstance(piece, str):
                holder[field] = restorers.setdefault(key, StreamRestorer(scope)).feed(piece)

        for choice in data.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", 0)
            delta = choice.get("delta")
            if isinstance(delta, dict):
                feed((index, "content"), delta, "content")
                feed((index, "refusal"), delta, "refusal")
                for call in delta.get("tool_calls") or []:
                    if not isinstance(call, dict):
                        continue
                    if "id" in call:
                        call["id"] = restore_names(call["id"], clean.names)
                    fn = call.get("function")
                    if isinstance(fn, dict):
                        if "name" in fn:
                            fn["name"] = restore_names(fn["name"], clean.names)
                        feed((index, "tool", call.get("index", 0)), fn, "arguments")
            if "text" in choice:  # legacy completions
                feed((index, "text"), choice, "text")
            if choice.get("finish_reason"):
                for key, restorer in restorers.items():
                    if key[0] != index:
                        continue
                    rest = restorer.flush()
                    if not rest:
                        continue
                    if key[1] == "text":
                        choice["text"] = (choice.get("text") or "") + rest
                    elif key[1] in ("content", "refusal"):
                        delta = choice.setdefault("delta", {})
                        delta[key[1]] = (delta.get(key[1]) or "") + rest
                    else:
                        delta = choice.setdefault("delta", {})
                        delta.setdefault("tool_calls", []).append(
                            {"index": key[2], "function": {"arguments": rest}})
        return f"data: {json.dumps(data)}".encode()


def _field_names_only(paths: list[str]) -> bool:
    """Dropped-field paths are logged only when they look like field names (not values)."""
    return all(len(p) < 80 and all(c.isalnum() or c in "._[]-" for c in p) for p in paths)


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

    async def forward(request: Request, endpoint: str, path: str) -> Response:
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            if endpoint == "chat" and not isinstance(body.get("messages"), list):
                raise ValueError("'messages' must be a list")
            if endpoint == "completions" and not isinstance(body.get("prompt"), str | list):
                raise ValueError("'prompt' must be a string or a list of strings")
        except ValueError as exc:
            return error(400, f"invalid request body: {exc}")
        clean = await asyncio.to_thread(gateway.sanitize, body, endpoint)
        payload = json.dumps(clean.body).encode()
        headers = gateway.headers(dict(request.headers))
        if not clean.body.get("stream"):
            try:
                resp = await gateway.pool.request("POST", path, payload, headers)
            except Exception as exc:
                return error(502, f"upstream unavailable: {type(exc).__name__}")
            if resp.status != 200:
                return Response(resp.body, status_code=resp.status,
                                media_type="application/json")
            try:
                data = json.loads(resp.body)
            except ValueError:
                return error(502, "upstream answered with invalid JSON")
            return JSONResponse(gateway.restore_json(data, clean))

        async def events() -> AsyncIterator[bytes]:
            async with gateway.pool.stream("POST", path, payload,
                                           headers) as (status, _h, chunks):
                if status != 200:
                    body_bytes = b"".join([c async for c in chunks])
                    yield b"data: " + body_bytes + b"\n\n"
                    return
                async for out in gateway.restore_stream(chunks, clean):
                    yield out

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        return await forward(request, "chat", "/chat/completions")

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await forward(request, "completions", "/completions")

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
