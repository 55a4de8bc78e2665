"""The gateway's allow-list: what of an OpenAI chat request may reach the upstream, and how.

Every field of a request is in one of four classes, and a field in none of them is DROPPED
(an allow-list, not a deny-list, so a field added to the API later cannot leak):

- numbers, booleans and enumerated strings (``temperature``, ``stream``, ``reasoning_effort``):
  forwarded when their value has the expected type, dropped otherwise;
- free text (message content, ``stop``, tool and schema descriptions, tool-call arguments,
  ``prediction``): de-identified. JSON found in text (the whole text or an object/array inside
  prose, also JSON inside JSON strings) is walked: every string leaf, and every key, is
  de-identified with its key as context (``"patient": "emily chen"`` is read as
  ``patient: emily chen``), long numbers are checked the same way;
- opaque identifiers the protocol needs (``model``, tool and function names, tool-call ids):
  forwarded when the detector finds nothing in them, otherwise replaced by a stable token
  that the answer maps back (names and ids only);
- fields with no use upstream that commonly carry identities (message ``name``, ``user``,
  ``metadata``, images and audio, unknown extra fields): dropped.

The detector runs once per request over every collected text (``detect_batch``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from haia.privacy.anonymize import Anonymizer, Scope
from haia.privacy.detector import Detector, Entity

Plan = Callable[[list[str]], Any]

NUMBERS = {"frequency_penalty", "presence_penalty", "temperature", "top_p", "n", "max_tokens",
           "max_completion_tokens", "seed", "top_logprobs", "best_of", "max_output_tokens",
           "top_k", "min_p", "repetition_penalty"}
BOOLEANS = {"stream", "logprobs", "parallel_tool_calls", "store", "echo"}
ENUMS = {"reasoning_effort": {"minimal", "low", "medium", "high", "none"},
         "service_tier": {"auto", "default", "flex", "scale", "priority"},
         "verbosity": {"low", "medium", "high"}}
ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
SAFE_ID = re.compile(r"^[A-Za-z0-9._:/@+-]{1,200}$")
# Fields that are dropped on purpose (listed so the log can say "dropped by design").
DROPPED = {"user", "metadata", "safety_identifier", "prompt_cache_key", "audio", "modalities",
           "web_search_options", "logit_bias", "functions_meta"}


@dataclass
class Sanitized:
    """A cleaned request and what the gateway needs to answer the caller."""

    body: dict[str, Any]
    scope: Scope
    names: dict[str, str] = field(default_factory=dict)  # token sent upstream -> real value
    dropped: list[str] = field(default_factory=list)  # field paths dropped (never values)


class RequestCleaner:
    """Builds the cleaned copy of one request in two phases: plan (collect texts), then fill."""

    def __init__(self, detector: Detector, anonymizer: Anonymizer, scope: Scope) -> None:
        self.detector = detector
        self.anonymizer = anonymizer
        self.scope = scope
        self.texts: list[tuple[str, str]] = []  # (context prefix, text)
        self.ids: list[tuple[str, str]] = []  # (kind, value) to check
        self.names: dict[str, str] = {}
        self.dropped: list[str] = []

    # -- phase 1: plans ---------------------------------------------------------------------
    def _slot(self, text: str, context: str = "") -> Plan:
        index = len(self.texts)
        self.texts.append((context, text))
        return lambda results: results[index]

    def text(self, value: Any, context: str = "") -> Plan:
        """De-identified free text; JSON inside it walked."""
        if not isinstance(value, str):
            return self.json(value, context)
        if not value.strip():
            return lambda _r: value
        pieces: list[Plan] = []
        for kind, raw, parsed in _split_json(value):
            if kind == "text":
                pieces.append(self._slot(raw, context) if raw.strip() else _const(raw))
            else:
                inner = self.json(parsed, context)
                pieces.append(_json_piece(inner, parsed, raw))
        return lambda r: "".join(p(r) for p in pieces)

    def json(self, node: Any, key: str = "") -> Plan:
        """A JSON value with every string (and key) de-identified, long numbers checked."""
        context = _context(key)
        if isinstance(node, str):
            return self.text(node, context)
        if isinstance(node, bool) or node is None:
            return _const(node)
        if isinstance(node, int | float):
            if isinstance(node, int) and abs(node) >= 1000:
                index = len(self.texts)
                self.texts.append((context, str(node)))

                def number(r: list[str], index: int = index, node: Any = node) -> Any:
                    return node if r[index] == str(node) else r[index]
                return number
            return _const(node)
        if isinstance(node, list):
            items = [self.json(v, key) for v in node]
            return lambda r: [f(r) for f in items]
        if isinstance(node, dict):
            pairs = [(self.text(str(k)) if _wordy(str(k)) else _const(str(k)), self.json(v, str(k)))
                     for k, v in node.items()]
            return lambda r: {k(r): v(r) for k, v in pairs}
        return _const(None)

    def ident(self, value: Any, kind: str) -> Plan:
        """An identifier the protocol needs (model, tool name, call id): kept or tokenised."""
        if not isinstance(value, str):
            return _const(None)
        index = len(self.texts)
        self.texts.append(("", value.replace("_", " ")))

        def fill(r: list[str], value: str = value, index: int = index) -> str:
            if r[index] == value.replace("_", " ") and SAFE_ID.match(value):
                return value
            digest = hashlib.sha256(f"{self.scope.key}\x1f{value}".encode()).hexdigest()[:12]
            token = f"{kind}_{digest}"
            self.names[token] = value
            return token
        return fill

    # -- phase 2: run the detector once and fill ---------------------------------------------
    def run(self, plan: Plan) -> Any:
        views = [prefix + text for prefix, text in self.texts]
        results = []
        for (prefix, text), ents in zip(self.texts, self.detector.detect_related(views),
                                        strict=True):
            shift = len(prefix)
            own = [Entity(max(0, e.start - shift), e.end - shift, e.type, e.score)
                   for e in ents if e.end > shift]
            results.append(self.anonymizer.anonymize(text, own, self.scope) if own else text)
        return plan(results)


def _const(value: Any) -> Plan:
    return lambda _r: value


def _context(key: str) -> str:
    words = re.sub(r"[_\-.]+|(?<=[a-z])(?=[A-Z])", " ", key).strip()
    return f"{words}: " if words and not words.isdigit() else ""


def _wordy(key: str) -> bool:
    """A key worth de-identifying (contains a space or a digit, or is long)."""
    return bool(re.search(r"[\s\d@]", key)) or len(key) > 24


def _json_piece(inner: Plan, parsed: Any, raw: str) -> Plan:
    def piece(r: list[str]) -> str:
        value = inner(r)
        return raw if value == parsed else json.dumps(value, ensure_ascii=False)
    return piece


_DECODER = json.JSONDecoder()


def _split_json(text: str) -> list[tuple[str, str, Any]]:
    """``text`` cut into prose and JSON objects/arrays: ``(kind, raw, parsed)`` pieces."""
    if "{" not in text and "[" not in text:
        return [("text", text, None)]
    out: list[tuple[str, str, Any]] = []
    pos = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c in "{[":
            try:
                parsed, end = _DECODER.raw_decode(text, i)
            except ValueError:
                i += 1
                continue
            if isinstance(parsed, dict | list) and parsed:
                if i > pos:
                    out.append(("text", text[pos:i], None))
                out.append(("json", text[i:end], parsed))
                pos = i = end
                continue
        i += 1
    if pos < len(text):
        out.append(("text", text[pos:], None))
    return out


# -- the chat request -------------------------------------------------------------------------
def _scalars(body: dict[str, Any], out: dict[str, Any], dropped: list[str]) -> set[str]:
    """Copy numbers, booleans and enums of the right type; return the keys handled."""
    handled = set()
    for key, value in body.items():
        if key in NUMBERS:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif key in BOOLEANS:
            ok = isinstance(value, bool)
        elif key in ENUMS:
            ok = value in ENUMS[key]
        else:
            continue
        handled.add(key)
        if ok:
            out[key] = value
        else:
            dropped.append(key)
    return handled


def _schema_plan(cleaner: RequestCleaner, schema: Any) -> Plan:
    return cleaner.json(schema)


def _tool_plan(cleaner: RequestCleaner, tool: Any) -> Plan | None:
    if not isinstance(tool, dict) or tool.get("type", "function") != "function":
        return None
    fn = tool.get("function") if "function" in tool else tool  # Chat vs Responses shape
    if not isinstance(fn, dict):
        return None
    name = cleaner.ident(fn.get("name"), "tool")
    desc = cleaner.text(fn["description"]) if isinstance(fn.get("description"), str) else None
    params = _schema_plan(cleaner, fn["parameters"]) if "parameters" in fn else None
    strict = fn.get("strict") if isinstance(fn.get("strict"), bool) else None
    nested = "function" in tool

    def fill(r: list[str]) -> dict[str, Any]:
        inner: dict[str, Any] = {"name": name(r)}
        if desc is not None:
            inner["description"] = desc(r)
        if params is not None:
            inner["parameters"] = params(r)
        if strict is not None:
            inner["strict"] = strict
        return {"type": "function", "function": inner} if nested else {"type": "function",
                                                                       **inner}
    return fill


def _tool_call_plan(cleaner: RequestCleaner, call: Any) -> Plan | None:
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        return None
    fn = call["function"]
    cid = cleaner.ident(call.get("id"), "call")
    name = cleaner.ident(fn.get("name"), "tool")
    args = cleaner.text(fn.get("arguments") or "")
    return lambda r: {"id": cid(r), "type": "function",
                      "function": {"name": name(r), "arguments": args(r)}}


def _content_plan(cleaner: RequestCleaner, content: Any, path: str) -> Plan:
    if isinstance(content, str):
        return cleaner.text(content)
    if not isinstance(content, list):
        return _const(None if content is None else "")
    parts: list[Plan] = []
    for k, part in enumerate(content):
        if not isinstance(part, dict):
            cleaner.dropped.append(f"{path}[{k}]")
            continue
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text") and isinstance(part.get("text"), str):
            text = cleaner.text(part["text"])
            parts.append(lambda r, t=text, kind=kind: {"type": kind, "text": t(r)})
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            text = cleaner.text(part["refusal"])
            parts.append(lambda r, t=text: {"type": "refusal", "refusal": t(r)})
        else:  # images, audio, files: pixels and documents cannot be de-identified here
            cleaner.dropped.append(f"{path}[{k}].{kind}")
            parts.append(_const({"type": "text" if kind not in ("input_image", "input_file")
                                 else "input_text",
                                 "text": f"[{kind or 'part'} removed by the gateway]"}))
    return lambda r: [p(r) for p in parts]


def _message_plan(cleaner: RequestCleaner, message: Any, k: int) -> Plan | None:
    if not isinstance(message, dict) or message.get("role") not in ROLES:
        cleaner.dropped.append(f"messages[{k}]")
        return None
    role = message["role"]
    fields: dict[str, Plan] = {}
    if "content" in message:
        fields["content"] = _content_plan(cleaner, message["content"], f"messages[{k}].content")
    if isinstance(message.get("refusal"), str):
        fields["refusal"] = cleaner.text(message["refusal"])
    if isinstance(message.get("tool_calls"), list):
        calls = [p for c in message["tool_calls"] if (p := _tool_call_plan(cleaner, c))]
        fields["tool_calls"] = lambda r: [c(r) for c in calls]
    if isinstance(message.get("function_call"), dict):
        fc = message["function_call"]
        name = cleaner.ident(fc.get("name"), "tool")
        args = cleaner.text(fc.get("arguments") or "")
        fields["function_call"] = lambda r: {"name": name(r), "arguments": args(r)}
    if "tool_call_id" in message:
        fields["tool_call_id"] = cleaner.ident(message["tool_call_id"], "call")
    if role == "function" and "name" in message:
        fields["name"] = cleaner.ident(message["name"], "tool")
    for key in message:
        if key not in fields and key != "role":
            cleaner.dropped.append(f"messages[{k}].{key}")
    return lambda r: {"role": role, **{key: f(r) for key, f in fields.items()}}


def _tool_choice_plan(cleaner: RequestCleaner, choice: Any) -> Plan | None:
    if choice in ("none", "auto", "required"):
        return _const(choice)
    if isinstance(choice, dict) and choice.get("type") == "function":
        fn = choice.get("function") if isinstance(choice.get("function"), dict) else choice
        name = cleaner.ident(fn.get("name"), "tool")
        if "function" in choice:
            return lambda r: {"type": "function", "function": {"name": name(r)}}
        return lambda r: {"type": "function", "name": name(r)}
    return None


def _response_format_plan(cleaner: RequestCleaner, fmt: Any) -> Plan | None:
    if not isinstance(fmt, dict):
        return None
    kind = fmt.get("type")
    if kind in ("text", "json_object"):
        return _const({"type": kind})
    if kind == "json_schema" and isinstance(fmt.get("json_schema"), dict):
        spec = fmt["json_schema"]
        name = cleaner.ident(spec.get("name", "schema"), "schema")
        schema = cleaner.json(spec.get("schema", {}))
        desc = cleaner.text(spec["description"]) if isinstance(spec.get("description"),
                                                               str) else None
        strict = spec.get("strict") if isinstance(spec.get("strict"), bool) else None

        def fill(r: list[str]) -> dict[str, Any]:
            inner: dict[str, Any] = {"name": name(r), "schema": schema(r)}
            if desc is not None:
                inner["description"] = desc(r)
            if strict is not None:
                inner["strict"] = strict
            return {"type": "json_schema", "json_schema": inner}
        return fill
    return None


def clean_chat(body: dict[str, Any], detector: Detector, anonymizer: Anonymizer,
               scope: Scope) -> Sanitized:
    """The allow-listed, de-identified copy of a Chat Completions request."""
    c = RequestCleaner(detector, anonymizer, scope)
    out: dict[str, Any] = {}
    handled = _scalars(body, out, c.dropped)
    plans: dict[str, Plan] = {}
    plans["model"] = c.ident(body.get("model", ""), "model")
    messages = [p for k, m in enumerate(body.get("messages") or [])
                if (p := _message_plan(c, m, k))]
    plans["messages"] = lambda r: [m(r) for m in messages]
    if "stop" in body:
        stop = body["stop"]
        if isinstance(stop, str):
            plans["stop"] = c.text(stop)
        elif isinstance(stop, list):
            stops = [c.text(s) for s in stop if isinstance(s, str)]
            plans["stop"] = lambda r: [s(r) for s in stops]
    if isinstance(body.get("tools"), list):
        tools = [p for t in body["tools"] if (p := _tool_plan(c, t))]
        plans["tools"] = lambda r: [t(r) for t in tools]
    if isinstance(body.get("functions"), list):  # legacy function calling
        fns = [p for f in body["functions"] if (p := _tool_plan(c, {"type": "function", **f}
                                                                    if isinstance(f, dict)
                                                                    else f))]
        plans["functions"] = lambda r: [{k: v for k, v in f(r).items() if k != "type"}
                                        for f in fns]
    for key, builder in (("tool_choice", _tool_choice_plan),
                         ("response_format", _response_format_plan)):
        if key in body and (p := builder(c, body[key])) is not None:
            plans[key] = p
    if isinstance(body.get("function_call"), str | dict):
        p = _tool_choice_plan(c, body["function_call"])
        if p is not None:
            plans["function_call"] = p
    if isinstance(body.get("stream_options"), dict):
        opts = {k: v for k, v in body["stream_options"].items()
                if k in ("include_usage", "include_obfuscation") and isinstance(v, bool)}
        plans["stream_options"] = _const(opts)
    if isinstance(body.get("prediction"), dict) and body["prediction"].get("type") == "content":
        content = _content_plan(c, body["prediction"].get("content"), "prediction")
        plans["prediction"] = lambda r: {"type": "content", "content": content(r)}
    for key in body:
        if key not in handled and key not in plans:
            c.dropped.append(key)
    filled = c.run(lambda r: {k: f(r) for k, f in plans.items()})
    out.update(filled)
    return Sanitized(out, scope, c.names, c.dropped)


def clean_completion(body: dict[str, Any], detector: Detector, anonymizer: Anonymizer,
                     scope: Scope) -> Sanitized:
    """The allow-listed, de-identified copy of a legacy Completions request."""
    c = RequestCleaner(detector, anonymizer, scope)
    out: dict[str, Any] = {}
    handled = _scalars(body, out, c.dropped)
    plans: dict[str, Plan] = {"model": c.ident(body.get("model", ""), "model")}
    for key in ("prompt", "suffix", "stop"):
        value = body.get(key)
        if isinstance(value, str):
            plans[key] = c.text(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = [c.text(v) for v in value]
            plans[key] = lambda r, items=items: [i(r) for i in items]
    for key in body:
        if key not in handled and key not in plans:
            c.dropped.append(key)
    out.update(c.run(lambda r: {k: f(r) for k, f in plans.items()}))
    return Sanitized(out, scope, c.names, c.dropped)


def restore_names(value: Any, names: dict[str, str]) -> Any:
    """``value`` (a tool/function name or call id from the answer) mapped back for the caller."""
    return names.get(value, value) if isinstance(value, str) else value
