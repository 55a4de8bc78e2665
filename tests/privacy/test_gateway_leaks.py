"""The gateway forwards no planted identifier, in any field, through the official openai client.

A logging upstream on 127.0.0.1 records the raw bytes of every request it receives (any path)
and echoes what it was sent (content and a tool call), streaming or not, so the test also sees
that the caller gets the real values back.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import openai
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from haia.privacy.detector import Detector
from haia.privacy.gateway import Gateway, GatewayServer, free_port

# Every planted value, and the words of every planted name (checked case-insensitively).
PLANTED = [
    "emily chen", "Nguyen Van An", "482-91-3311", "482913311", "Zofia Wiśniewska-Kowalczyk",
    "00482913", "+48 512 345 678", "José María Fernández", "1961-03-14", "03/14/1961",
    "1427 Willow Creek Road", "Springfield", "62704", "mob31@mailbox.org",
    "emily.chen@example.org", "Oluwaseun Adeyemi", "7731942", "Siobhán O'Sullivan", "5512093",
    "Thanh Huong Pham", "Grace Okafor", "217-555-0148", "PT-99812", "Aoife Ní Bhriain",
    "Kwame Mensah", "Dolores Quispe-Mamani", "Bartholomew Nakamura", "8823-7741-0092",
    "https://portal.example-health.org/p/88231",
]
NAME_WORDS = sorted({w for v in PLANTED if not any(c.isdigit() for c in v)
                     for w in re.findall(r"[^\W\d_]{3,}", v)} - {"https", "portal", "example",
                                                                  "health", "org", "road",
                                                                  "creek", "willow"})

CLINICAL = ("pt is emily chen, seen today with chest pain. DOB 03/14/1961, SSN on file "
            "482913311. Her neighbour Nguyen Van An brought her in. Lives at 1427 Willow Creek "
            "Road, Springfield 62704. Portal: https://portal.example-health.org/p/88231")
RECORD = json.dumps({"patient": "Zofia Wiśniewska-Kowalczyk", "mrn": "00482913",
                     "phone": "+48 512 345 678", "member_id": 88237741,
                     "nested": json.dumps({"next_of_kin": "Bartholomew Nakamura"})},
                    ensure_ascii=False)
TOOL_ARGS = json.dumps({"patient_name": "José María Fernández", "dob": "1961-03-14",
                        "card": "8823-7741-0092"}, ensure_ascii=False)
TOOL_RESULT = json.dumps({"address": "1427 Willow Creek Road, Springfield, IL 62704",
                          "email": "mob31@mailbox.org", "nok": "Dolores Quispe-Mamani"},
                         ensure_ascii=False)


class LoggingUpstream:
    """An OpenAI-compatible echo server that logs every request's raw body and path."""

    def __init__(self) -> None:
        self.log: list[tuple[str, bytes]] = []
        self.port = free_port()
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST"])
        async def anything(path: str, request: Request) -> Any:
            raw = await request.body()
            self.log.append((path, raw + json.dumps(dict(request.headers)).encode()))
            if request.method == "GET":
                return JSONResponse({"object": "list", "data": [{"id": "echo",
                                                                 "object": "model"}]})
            body = json.loads(raw)
            if path.endswith("chat/completions"):
                return self.chat(body)
            return self.completion(body)

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @staticmethod
    def _echo(body: dict[str, Any]) -> tuple[str, str]:
        user = [m for m in body["messages"] if m["role"] == "user"]
        content = user[-1]["content"] if user else ""
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content)
        calls = [c for m in body["messages"] for c in m.get("tool_calls") or []]
        args = calls[0]["function"]["arguments"] if calls else "{}"
        return f"Echo: {content}", args

    def chat(self, body: dict[str, Any]) -> Any:
        text, args = self._echo(body)
        tool = body.get("tools", [{}])[0].get("function", {}).get("name", "lookup")
        call = {"id": "call_up1", "type": "function",
                "function": {"name": tool, "arguments": args}}
        if not body.get("stream"):
            return JSONResponse({"id": "c1", "object": "chat.completion", "created": 1,
                                 "model": body["model"], "choices": [{
                                     "index": 0, "finish_reason": "tool_calls",
                                     "message": {"role": "assistant", "content": text,
                                                 "tool_calls": [call]}}]})

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            data = {"id": "c1", "object": "chat.completion.chunk", "created": 1,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data)}\n\n"

        def events() -> Any:
            yield chunk({"role": "assistant", "content": ""})
            for k in range(0, len(text), 7):  # small pieces: surrogates split across chunks
                yield chunk({"content": text[k:k + 7]})
            yield chunk({"tool_calls": [{"index": 0, "id": "call_up1", "type": "function",
                                         "function": {"name": tool, "arguments": ""}}]})
            for k in range(0, len(args), 5):
                yield chunk({"tool_calls": [{"index": 0, "function": {
                    "arguments": args[k:k + 5]}}]})
            yield chunk({}, "tool_calls")
            yield "data: [DONE]\n\n"
        return StreamingResponse(events(), media_type="text/event-stream")

    def completion(self, body: dict[str, Any]) -> Any:
        text = f"Echo: {body['prompt']}"
        if not body.get("stream"):
            return JSONResponse({"id": "t1", "object": "text_completion", "created": 1,
                                 "model": body["model"], "choices": [{
                                     "index": 0, "text": text, "finish_reason": "stop"}]})

        def events() -> Any:
            for k in range(0, len(text), 6):
                data = {"id": "t1", "object": "text_completion", "created": 1,
                        "model": body["model"], "choices": [{
                            "index": 0, "text": text[k:k + 6], "finish_reason": None}]}
                yield f"data: {json.dumps(data)}\n\n"
            done = {"id": "t1", "object": "text_completion", "created": 1,
                    "model": body["model"], "choices": [{"index": 0, "text": "",
                                                         "finish_reason": "stop"}]}
            yield f"data: {json.dumps(done)}\n\n"
            yield "data: [DONE]\n\n"
        return StreamingResponse(events(), media_type="text/event-stream")

    def __enter__(self) -> LoggingUpstream:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def leaks(self) -> list[str]:
        """Planted values and name words found in anything the upstream received."""
        texts = []
        for _path, raw in self.log:
            text = raw.decode("utf-8", "replace")
            texts.append(text)
            start = raw.find(b"{")
            with_escapes = raw[start:] if start >= 0 else b""
            try:  # JSON escapes (\u00e9) undone, so accented values are compared as written
                texts.append(json.dumps(json.loads(with_escapes.split(b'}{"host"')[0] + b"}"),
                                        ensure_ascii=False))
            except ValueError:
                texts.append(with_escapes.decode("unicode_escape", "replace"))
        blob = "\n".join(texts).lower()
        digits = re.sub(r"\D", "", blob)
        found = [v for v in PLANTED if v.lower() in blob]
        found += [w for w in NAME_WORDS if re.search(rf"(?<!\w){re.escape(w.lower())}(?!\w)",
                                                     blob)]
        found += [v for v in PLANTED if sum(c.isdigit() for c in v) >= 7
                  and re.sub(r"\D", "", v) in digits and v not in found]
        return found


def _request(stream: bool) -> dict[str, Any]:
    return dict(
        model="echo", stream=stream, temperature=0.2, max_tokens=200, seed=7,
        user="emily.chen@example.org",
        metadata={"patient": "Oluwaseun Adeyemi", "mrn": "MRN 7731942"},
        stop=["Patient: Thanh Huong Pham"],
        messages=[
            {"role": "system", "content": "You are the scribe of Dr. Aoife Ní Bhriain."},
            {"role": "user", "name": "emily_chen", "content": [
                {"type": "text", "text": CLINICAL},
                {"type": "image_url", "image_url": {
                    "url": "https://portal.example-health.org/p/88231/xray.png"}}]},
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "lookup", "arguments": TOOL_ARGS}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": TOOL_RESULT},
            {"role": "user", "content": f"Also this record: {RECORD}. Signed Kwame Mensah, RN."},
        ],
        tools=[{"type": "function", "function": {
            "name": "lookup",
            "description": "Look up records, e.g. for Siobhán O'Sullivan (MRN 5512093).",
            "parameters": {"type": "object", "properties": {"mrn": {
                "type": "string", "description": "the MRN, such as 5512093 for Siobhán "
                                                 "O'Sullivan"}}}}}],
        tool_choice="auto",
        extra_body={"patient_id": "PT-99812",
                    "notes": "call Grace Okafor at 217-555-0148",
                    "safety_identifier": "Grace Okafor"},
    )


@pytest.mark.parametrize("stream", [False, True])
def test_no_planted_identifier_reaches_the_upstream(detector: Detector, stream: bool) -> None:
    with LoggingUpstream() as upstream:
        gateway = Gateway(upstream.base_url, detector=detector, restore=True)
        with GatewayServer(gateway) as url:
            client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)
            kwargs = _request(stream)
            if stream:
                content, args = "", ""
                for chunk in client.chat.completions.create(**kwargs):
                    for choice in chunk.choices:
                        content += choice.delta.content or ""
                        for call in choice.delta.tool_calls or []:
                            args += (call.function.arguments or "") if call.function else ""
            else:
                reply = client.chat.completions.create(**kwargs)
                message = reply.choices[0].message
                content = message.content or ""
                args = message.tool_calls[0].function.arguments
                assert message.tool_calls[0].function.name == "lookup"
            # Legacy completions through the same gateway.
            completion = client.completions.create(
                model="echo", prompt=f"Summarise: {CLINICAL}", user="emily.chen@example.org",
                stream=stream, extra_body={"patient": "Grace Okafor"})
            if stream:
                text = "".join(c.choices[0].text for c in completion if c.choices)
            else:
                text = completion.choices[0].text
            client.models.list()
    assert len(upstream.log) == 3
    assert upstream.leaks() == []
    # The caller gets the real values back (surrogates restored, also across chunks).
    assert "Zofia Wiśniewska-Kowalczyk" in content
    assert "José María Fernández" in args
    assert "1427 Willow Creek Road" in text


def test_fields_outside_the_allow_list_are_dropped(detector: Detector) -> None:
    gateway = Gateway("http://127.0.0.1:9/v1", detector=detector)
    clean = gateway.sanitize({
        "model": "m", "messages": [{"role": "user", "name": "Grace", "content": "hi",
                                    "x_patient": "Grace Okafor"}],
        "user": "u1", "metadata": {"k": "v"}, "brand_new_field": {"a": "Grace Okafor"},
        "temperature": "hot", "top_p": 0.5, "reasoning_effort": "low"})
    assert clean.body == {"model": "m", "top_p": 0.5, "reasoning_effort": "low",
                          "messages": [{"role": "user", "content": "hi"}]}
    assert {"user", "metadata", "brand_new_field", "temperature", "messages[0].name",
            "messages[0].x_patient"} <= set(clean.dropped)


def test_identifier_fields_with_phi_are_tokenised_and_mapped_back(detector: Detector) -> None:
    gateway = Gateway("http://127.0.0.1:9/v1", detector=detector)
    clean = gateway.sanitize({
        "model": "m", "messages": [{"role": "user", "content": "go"}],
        "tools": [{"type": "function", "function": {"name": "record_482-91-3311"}}]})
    sent = clean.body["tools"][0]["function"]["name"]
    assert "482" not in sent and sent.startswith("tool_")
    answer = {"choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": sent, "arguments": "{}"}}]}}]}
    back = gateway.restore_json(answer, clean)
    assert back["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == \
        "record_482-91-3311"


def test_json_in_content_keeps_its_shape(detector: Detector) -> None:
    gateway = Gateway("http://127.0.0.1:9/v1", detector=detector)
    body, _ = gateway.deidentify({"model": "m", "messages": [{"role": "user", "content": RECORD}]})
    sent = json.loads(body["messages"][0]["content"])
    assert set(sent) == {"patient", "mrn", "phone", "member_id", "nested"}
    assert "Zofia" not in sent["patient"] and sent["mrn"] != "00482913"
    assert "Nakamura" not in sent["nested"] and "next_of_kin" in json.loads(sent["nested"])


def test_responses_api_is_not_served(detector: Detector) -> None:
    with LoggingUpstream() as upstream:
        gateway = Gateway(upstream.base_url, detector=detector)
        with GatewayServer(gateway) as url:
            client = openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0)
            with pytest.raises(openai.NotFoundError):
                client.responses.create(model="echo", input="pt is emily chen")
    assert upstream.log == []
