"""``openai:MODEL@BASE_URL``: any OpenAI-compatible chat-completions server.

Works unchanged against vLLM, Ollama (``http://localhost:11434/v1``), llama.cpp's server and
hosted APIs: only ``POST {BASE_URL}/chat/completions`` with the standard fields is used. HTTP 429,
408, 409 and 5xx, timeouts and dropped connections are raised as transient (the runner retries
them, honouring ``Retry-After``); other 4xx are permanent.
"""

from __future__ import annotations

import email.utils
import json
import os
import time
from typing import Any

from haia.errors import ModelSpecError
from haia.models.base import (
    GenerationRequest,
    GenerationResponse,
    ModelError,
    TransientModelError,
    UnsupportedInput,
    Usage,
)
from haia.models.http import ConnectionPool, HttpError
from haia.models.registry import ModelOptions, adapter
from haia.validate import check_header

TRANSIENT_STATUSES = {408, 409, 425, 429}
IMAGE_REJECTION_HINTS = ("image", "vision", "multimodal", "image_url")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip()
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error)[:300]
    if isinstance(error, str):
        return error[:300]
    return str(data)[:300]


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers return content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


class MalformedResponse(ModelError):
    """The server answered, but not with a well-formed chat completion (fails that item)."""


def _token_count(usage: dict[str, Any], name: str) -> int:
    """A usage count as a non-negative integer; anything else is a malformed answer."""
    value = usage.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value \
            or value in (float("inf"), float("-inf")) or value < 0 \
            or (isinstance(value, float) and not value.is_integer()):
        raise MalformedResponse(f"malformed chat-completions response: usage.{name} is "
                                f"{value!r}, not a token count")
    return int(value)


class OpenAICompatAdapter:
    """Chat completions over HTTP with a keep-alive pool sized to the run's concurrency."""

    # ``response_format`` with a JSON schema (--structured) is sent as given; servers that
    # accept it (vLLM, llama.cpp's server, hosted APIs) constrain the answer to it.
    supports_structured = True

    def __init__(self, model: str, base_url: str, *, api_key_env: str | None = None,
                 headers: dict[str, str] | None = None, max_connections: int = 64,
                 timeout: float = 120.0, modalities: frozenset[str] | None = None) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.spec = f"openai:{model}@{self.base_url}"
        self.modalities = modalities or frozenset({"text", "data", "image"})
        self.timeout = timeout
        self._headers = {"Content-Type": "application/json", "Accept": "application/json",
                         "User-Agent": "haia"}
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise ModelSpecError(f"environment variable {api_key_env} (named by "
                                     "--api-key-env) is not set or empty")
            check_header("Authorization", f"Bearer {key}", f"API key in {api_key_env}")
            self._headers["Authorization"] = f"Bearer {key}"
        for name, value in (headers or {}).items():
            check_header(name, value)
        self._headers.update(headers or {})
        try:
            self._pool = ConnectionPool(self.base_url, max_connections=max_connections)
        except ValueError as exc:
            raise ModelSpecError(str(exc)) from exc

    def identity(self) -> str:
        # The base URL is part of the identity: the same model name on two servers may differ.
        return self.spec

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        """The JSON body of the chat-completions request."""
        body: dict[str, Any] = {"model": self.model, "messages": request.messages,
                                "temperature": request.temperature,
                                "max_tokens": request.max_tokens}
        if request.seed is not None:
            body["seed"] = request.seed
        body.update(request.extra)
        return body

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        body = json.dumps(self.payload(request), ensure_ascii=False).encode()
        start = time.perf_counter()
        try:
            response = await self._pool.request("POST", "/chat/completions", body,
                                                self._headers)
        except HttpError as exc:
            # A reused keep-alive connection the server had already closed: retry at once.
            retry_after = 0.0 if exc.reused and exc.sent_nothing_back else None
            raise TransientModelError(str(exc), retry_after=retry_after) from exc
        latency = time.perf_counter() - start
        status = response.status
        if status >= 400:
            message = f"HTTP {status}: {_error_message(response.body)}"
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if status in TRANSIENT_STATUSES or status >= 500:
                raise TransientModelError(message, status=status, retry_after=retry_after)
            if status in {400, 415, 422} and self._has_image(request) and any(
                    hint in message.lower() for hint in IMAGE_REJECTION_HINTS):
                raise UnsupportedInput(message, status=status)
            raise ModelError(message, status=status)
        return self._parse(response.body, latency)

    @staticmethod
    def _has_image(request: GenerationRequest) -> bool:
        return any(isinstance(m.get("content"), list) and any(
            p.get("type") == "image_url" for p in m["content"]) for m in request.messages)

    @staticmethod
    def _parse(raw: bytes, latency: float) -> GenerationResponse:
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            text = _content_text(choice.get("message", {}).get("content"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise TransientModelError(
                f"malformed chat-completions response: {raw[:120]!r}") from exc
        usage = data.get("usage") or {}
        if not isinstance(usage, dict):
            raise MalformedResponse(f"malformed chat-completions response: usage is "
                                    f"{type(usage).__name__}, not an object")
        finish = choice.get("finish_reason")
        model = data.get("model")
        return GenerationResponse(
            text=text,
            usage=Usage(_token_count(usage, "prompt_tokens"),
                        _token_count(usage, "completion_tokens")),
            latency_s=latency, finish_reason=finish if isinstance(finish, str) else None,
            model=model if isinstance(model, str) else None)

    async def aclose(self) -> None:
        await self._pool.aclose()


@adapter("openai", modalities={"text", "data", "image"}, local=False,
         usage="openai:MODEL@BASE_URL")
def _create(rest: str, options: ModelOptions) -> OpenAICompatAdapter:
    model, sep, base_url = rest.partition("@")
    if not sep or not model or not base_url.startswith(("http://", "https://")):
        raise ModelSpecError(f"bad model spec 'openai:{rest}': expected "
                             "openai:MODEL@http(s)://HOST/v1")
    return OpenAICompatAdapter(model, base_url.rstrip("/"), api_key_env=options.api_key_env,
                               headers=options.headers, max_connections=options.max_connections,
                               timeout=options.timeout)
