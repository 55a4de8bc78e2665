"""The OpenAI-compatible adapter and the scripted test server, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator

import openai
import pytest

from haia.errors import ModelSpecError
from haia.models.base import (
    GenerationRequest,
    ModelError,
    TransientModelError,
    UnsupportedInput,
)
from haia.models.openai_compat import OpenAICompatAdapter, parse_retry_after
from haia.testing.openai_server import Reply, ScriptedServer

REQ = GenerationRequest(messages=[{"role": "user", "content": "Which letter? Item q1"}],
                        temperature=0.3, max_tokens=7, seed=11)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(lambda body: "The answer is B") as srv:
        yield srv


def generate(adapter: OpenAICompatAdapter, request: GenerationRequest = REQ):
    async def go():
        try:
            return await adapter.generate(request)
        finally:
            await adapter.aclose()
    return asyncio.run(go())


def test_official_openai_client_speaks_to_the_test_server(server: ScriptedServer) -> None:
    client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
    models = client.models.list()
    assert [m.id for m in models.data] == ["scripted"]
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], temperature=0, seed=5)
    assert completion.choices[0].message.content == "The answer is B"
    assert completion.usage is not None and completion.usage.completion_tokens == 4
    assert server.requests[-1]["seed"] == 5
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True})
    pieces, usage = [], None
    for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        if chunk.usage:
            usage = chunk.usage
    assert "".join(pieces) == "The answer is B"
    assert usage is not None and usage.completion_tokens == 4
    server.fail_next(1, status=429, retry_after=0)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_adapter_sends_parameters_headers_and_key(server: ScriptedServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sekret")
    adapter = OpenAICompatAdapter("gpt-x", server.base_url, api_key_env="MY_KEY",
                                  headers={"X-Trace": "t1"})
    response = generate(adapter)
    assert response.text == "The answer is B"
    assert response.usage.completion_tokens == 4 and response.usage.prompt_tokens > 0
    assert response.latency_s > 0 and response.finish_reason == "stop"
    body, headers = server.requests[-1], server.headers_seen[-1]
    assert body["model"] == "gpt-x" and body["temperature"] == 0.3
    assert body["max_tokens"] == 7 and body["seed"] == 11
    assert body["messages"] == REQ.messages
    assert headers["authorization"] == "Bearer sekret" and headers["x-trace"] == "t1"


def test_missing_api_key_variable_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_KEY", raising=False)
    with pytest.raises(ModelSpecError, match="NOPE_KEY"):
        OpenAICompatAdapter("m", "http://127.0.0.1:9/v1", api_key_env="NOPE_KEY")


@pytest.mark.parametrize(("status", "transient"), [(429, True), (500, True), (503, True),
                                                    (408, True), (400, False), (401, False),
                                                    (404, False)])
def test_status_codes_map_to_transient_or_permanent(status: int, transient: bool) -> None:
    def responder(body: dict) -> Reply:
        return Reply(status=status, headers={"Retry-After": "2"})

    with ScriptedServer(responder) as srv, pytest.raises(ModelError) as caught:
        generate(OpenAICompatAdapter("m", srv.base_url))
    assert caught.value.transient is transient
    assert caught.value.status == status
    assert f"HTTP {status}" in str(caught.value)
    if transient:
        assert caught.value.retry_after == 2.0


def test_dropped_connection_is_transient(server: ScriptedServer) -> None:
    server.drop_next(1)
    with pytest.raises(TransientModelError):
        generate(OpenAICompatAdapter("m", server.base_url))


def test_refused_connection_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransientModelError, match="cannot connect"):
        generate(OpenAICompatAdapter("m", f"http://127.0.0.1:{port}/v1"))


def test_image_rejected_by_text_only_server_is_unsupported(server: ScriptedServer) -> None:
    request = GenerationRequest(messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is shown?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
    server.responder = lambda body: Reply(status=400, text="bad value for temperature")
    with pytest.raises(ModelError) as plain:
        generate(OpenAICompatAdapter("m", server.base_url), request)
    assert not isinstance(plain.value, UnsupportedInput)
    server.responder = lambda body: Reply(status=400, text="model does not support image input")
    with pytest.raises(UnsupportedInput):
        generate(OpenAICompatAdapter("m", server.base_url), request)


def test_keep_alive_connections_are_reused(server: ScriptedServer) -> None:
    adapter = OpenAICompatAdapter("m", server.base_url, max_connections=4)
    peers: set[int] = set()

    async def go() -> None:
        for _ in range(3):
            await asyncio.gather(*(adapter.generate(REQ) for _ in range(4)))
        peers.update(id(c) for c in adapter._pool._idle)
        await adapter.aclose()

    asyncio.run(go())
    assert len(server.requests) == 12
    assert 1 <= len(peers) <= 4


def test_chunked_and_close_framed_responses_are_read() -> None:
    """Servers behind proxies often answer chunked, or close the connection to end the body."""
    body = json.dumps({"choices": [{"message": {"content": "chunky"}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 3, "completion_tokens": 1}}).encode()
    half = len(body) // 2
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               + f"{half:x}\r\n".encode() + body[:half] + b"\r\n"
               + f"{len(body) - half:x}\r\n".encode() + body[half:] + b"\r\n0\r\n\r\n")
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body
    for raw in (chunked, closing):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def serve(sock: socket.socket = listener, payload: bytes = raw) -> None:
            conn, _ = sock.accept()
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            conn.sendall(payload)
            conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        response = generate(OpenAICompatAdapter("m", f"http://127.0.0.1:{port}/v1"))
        thread.join(5)
        listener.close()
        assert response.text == "chunky" and response.usage.prompt_tokens == 3


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
