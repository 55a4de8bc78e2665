"""Find and load suites: bundled ones by name, the user's own by path.

Every problem with a suite file becomes one :class:`SuiteError` line naming the file, the item and
the field, e.g. ``starter.yaml: item 'cardio-003': field 'answer': 'F' is not one of the choices``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from haia.errors import SuiteError
from haia.suites.model import Item, Suite, SuiteMeta

SUITE_SUFFIXES = (".yaml", ".yml", ".jsonl")


def bundled_dir() -> Path:
    """The folder of the suites that ship with haia."""
    return Path(str(resources.files("haia.suites") / "data"))


def bundled_names() -> list[str]:
    """Names of every bundled suite."""
    names: list[str] = []
    if not bundled_dir().is_dir():
        return names
    for entry in sorted(bundled_dir().iterdir()):
        if entry.is_dir() and (entry / "suite.yaml").exists():
            names.append(entry.name)
        elif entry.suffix in SUITE_SUFFIXES and not entry.name.startswith("_"):
            names.append(entry.stem)
    return names


def resolve(name_or_path: str) -> Path:
    """The file a suite name or path refers to."""
    candidate = Path(name_or_path).expanduser()
    if candidate.is_dir() and (candidate / "suite.yaml").exists():
        return candidate / "suite.yaml"
    if candidate.is_file():
        return candidate
    base = bundled_dir()
    for path in (base / name_or_path / "suite.yaml",
                 *(base / f"{name_or_path}{s}" for s in SUITE_SUFFIXES)):
        if path.is_file():
            return path
    if candidate.suffix in SUITE_SUFFIXES or "/" in name_or_path:
        raise SuiteError(f"{name_or_path}: no such suite file")
    known = ", ".join(bundled_names()) or "none"
    raise SuiteError(f"unknown suite {name_or_path!r} (bundled suites: {known}; or give a path)")


MAX_DERIVE_DEPTH = 8
_loading: ContextVar[tuple[Path, ...]] = ContextVar("haia_suites_loading", default=())


def load_suite(name_or_path: str) -> Suite:
    """Load, expand and validate a suite (a suite derived from itself, directly or through
    others, or derived more than ``MAX_DERIVE_DEPTH`` deep, is refused)."""
    path = resolve(name_or_path)
    label = _label(path)
    chain = _loading.get()
    if path.resolve() in chain:
        raise SuiteError(f"{label}: the suite derives from itself (through "
                         f"{' -> '.join(_label(p) for p in chain)})")
    if len(chain) >= MAX_DERIVE_DEPTH:
        raise SuiteError(f"{label}: suites derived from suites more than {MAX_DERIVE_DEPTH} "
                         "deep")
    token = _loading.set((*chain, path.resolve()))
    try:
        if path.suffix == ".jsonl":
            meta_raw, raw_items = _read_jsonl(path, label)
        else:
            meta_raw, raw_items = _read_yaml(path, label)
        meta = _validate_meta(meta_raw, label)
        items = list(_validate_items(raw_items, label, base=path.parent))
    except RecursionError:
        raise SuiteError(f"{label}: nested too deeply") from None
    finally:
        _loading.reset(token)
    if not items:
        raise SuiteError(f"{label}: the suite has no items")
    return Suite(meta=meta, items=items, path=str(path))


def _label(path: Path) -> str:
    """How error messages name a suite file: relative to the bundled folder or as given."""
    try:
        return f"[bundled] {path.relative_to(bundled_dir())}"
    except ValueError:
        return str(path)


def _read_yaml(path: Path, label: str) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    data = _parse_yaml(path, label)
    if not isinstance(data, dict):
        raise SuiteError(f"{label}: expected a mapping with suite metadata and 'items'")
    data = dict(data)
    raw_items: list[tuple[str, Any]] = []
    items = data.pop("items", None)
    items_file = data.pop("items_file", None)
    families = data.pop("families", None)
    variants = data.pop("variants", None)
    derive = data.pop("derive", None)
    if items is not None:
        if not isinstance(items, list):
            raise SuiteError(f"{label}: field 'items': expected a list")
        raw_items += [(f"item #{n + 1}", item) for n, item in enumerate(items)]
    if items_file is not None:
        other = path.parent / str(items_file)
        if not other.is_file():
            raise SuiteError(f"{label}: field 'items_file': no such file {items_file!r}")
        _, more = _read_jsonl(other, _label(other), meta_line=False)
        raw_items += more
    if families is not None:
        from haia.suites.counterfactual import expand_families

        try:
            expanded = expand_families({"families": families, "variants": variants, **data})
        except (KeyError, ValueError, TypeError) as exc:
            raise SuiteError(f"{label}: field 'families': {exc}") from None
        raw_items += [(f"family item #{n + 1}", item) for n, item in enumerate(expanded)]
    if derive is not None:
        from haia.suites.transforms import derive_source, expand_derived

        try:
            derived = expand_derived(derive, load_suite(derive_source(derive)))
        except (KeyError, ValueError, TypeError) as exc:
            raise SuiteError(f"{label}: field 'derive': {exc}") from None
        raw_items += [(f"derived item #{n + 1}", item) for n, item in enumerate(derived)]
    if items is None and items_file is None and families is None and derive is None:
        raise SuiteError(f"{label}: field 'items': missing "
                         "(or give 'items_file', 'families' or 'derive')")
    return data, raw_items


def _parse_yaml(path: Path, label: str) -> Any:
    from haia.validate import load_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SuiteError(f"{label}: not a UTF-8 text file") from None
    except OSError as exc:
        raise SuiteError(f"{label}: cannot read ({exc.strerror})") from None
    return load_yaml(text, label, SuiteError)


def _read_jsonl(
    path: Path, label: str, *, meta_line: bool = True
) -> tuple[dict[str, Any], Iterator[tuple[str, Any]]]:
    """The metadata line and the items of a JSONL suite; the items are read as they are
    validated, so a 100,000-line file is never held as raw dicts and items at once."""
    records = _jsonl_records(path, label)
    meta: dict[str, Any] = {}
    if meta_line:
        number, record = next(records, (1, None))
        if not isinstance(record, dict) or "suite" not in record:
            raise SuiteError(f"{label}: line {number}: the first line must be "
                             '{"suite": {...metadata...}}')
        meta = record["suite"]
    return meta, ((f"line {number}", record) for number, record in records)


def _jsonl_records(path: Path, label: str) -> Iterator[tuple[int, Any]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(f"{label}: cannot read ({exc.strerror})") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SuiteError(f"{label}: line {number}: invalid JSON: {exc.msg}") from None
                except RecursionError:
                    raise SuiteError(f"{label}: line {number}: JSON nested too deeply") from None
        except UnicodeDecodeError:
            raise SuiteError(f"{label}: not a UTF-8 text file") from None


def _validate_meta(raw: Any, label: str) -> SuiteMeta:
    try:
        return SuiteMeta.model_validate(raw)
    except ValidationError as exc:
        raise SuiteError(f"{label}: {_describe(exc)}") from None


def _inline_images(raw: dict[str, Any], base: Path, who: str, label: str) -> dict[str, Any]:
    """Image parts given as a path inside the suite folder become ``data:`` URLs, so a run's
    requests (and their cache keys) carry the image itself."""
    messages = raw.get("messages")
    if not isinstance(messages, list):
        return raw
    out = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            parts = []
            for part in content:
                image = part.get("image") if isinstance(part, dict) else None
                if isinstance(image, str) and part.get("type") == "image" and \
                        not image.startswith(("data:", "http://", "https://")):
                    part = {**part, "image": _data_url(base, image, who, label)}
                parts.append(part)
            message = {**message, "content": parts}
        out.append(message)
    return {**raw, "messages": out}


_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".gif": "image/gif", ".webp": "image/webp"}


def _data_url(base: Path, relative: str, who: str, label: str) -> str:
    import base64

    path = (base / relative).resolve()
    kind = _IMAGE_TYPES.get(path.suffix.lower())
    if kind is None:
        raise SuiteError(f"{label}: {who}: field 'image': {relative!r} is not a PNG, JPEG, GIF "
                         "or WebP file")
    if not path.is_relative_to(base.resolve()) or not path.is_file():
        raise SuiteError(f"{label}: {who}: field 'image': no such file {relative!r} in the "
                         "suite folder")
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _validate_items(raw_items: Iterable[tuple[str, Any]], label: str,
                    base: Path | None = None) -> Iterator[Item]:
    seen: dict[str, str] = {}
    shared: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    for where, raw in raw_items:
        name = raw.get("id") if isinstance(raw, dict) else None
        who = f"item {name!r}" if isinstance(name, str) and name else where
        if not isinstance(raw, dict):
            raise SuiteError(f"{label}: {who}: expected a mapping")
        if base is not None:
            raw = _inline_images(raw, base, who, label)
        try:
            item = Item.model_validate(raw)
        except ValidationError as exc:
            raise SuiteError(f"{label}: {who}: {_describe(exc)}") from None
        if item.id in seen:
            raise SuiteError(f"{label}: {who}: duplicate id (first used by {seen[item.id]})")
        seen[item.id] = where
        _share_attributes(item, shared)
        yield item


def _share_attributes(item: Item, shared: dict[tuple[tuple[str, str], ...], dict[str, str]]
                      ) -> None:
    """Items of one population group hold one attributes mapping between them (no code mutates
    it; the model is frozen): a 100,000-item suite has a few dozen groups, not 100,000 dicts."""
    key = tuple(item.attributes.items())
    item.__dict__["attributes"] = shared.setdefault(key, item.attributes)


def _describe(exc: ValidationError) -> str:
    """The first validation error as ``field 'a.b': message``."""
    error = exc.errors()[0]
    loc = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "missing"
    elif error["type"] == "extra_forbidden":
        message = "unknown field"
    return f"field {loc!r}: {message}" if loc else message
