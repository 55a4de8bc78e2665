"""Checks run before an audit sends its first request, so a bad input fails in a second with one
line instead of after every request has been paid for.

- :func:`load_yaml`: YAML with limits on nesting depth and on the size an alias-laden document
  expands to (a "billion laughs" bomb is refused while it is still being parsed).
- :func:`check_headers`: HTTP header names and values (no CR/LF or other control characters, no
  non-ASCII), so nothing can be injected into a request.
- :func:`check_concurrency`: requests in flight within the process's open-file limit.
- :func:`check_thresholds`, :func:`check_sustainability`: the user's numbers are numbers, in range.
- :func:`check_suite_patterns`: every regular expression a suite's graders will use compiles.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import yaml

from haia.errors import HaiaError

# libyaml's parser when PyYAML was built with it (the wheels are): same documents, ~10x faster.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 2_000_000
MAX_YAML_BYTES = 64 * 1024 * 1024


def load_yaml(text: str, label: str, error: type[HaiaError] = HaiaError) -> Any:
    """Parse ``text`` safely; a too-deep or too-large (after aliases) document raises ``error``.

    The event stream is scanned first, without building anything: each collection's size counts
    every alias at the full size of what it points to, so the cost of the check is the size of
    the text, not of its expansion.
    """
    if len(text) > MAX_YAML_BYTES:
        raise error(f"{label}: file too large ({len(text) // 2**20} MiB; at most "
                    f"{MAX_YAML_BYTES // 2**20} MiB)")
    try:
        _scan(text, label, error)
        return yaml.load(text, Loader=_SafeLoader)  # a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's own limit, met while reading ahead
            raise error(f"{label}:{where}: nested more than {MAX_YAML_DEPTH} levels deep") \
                from None
        raise error(f"{label}:{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise error(f"{label}: YAML nested too deeply") from None


def _scan(text: str, label: str, error: type[HaiaError]) -> None:
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # [anchor, expanded node count]
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
            if len(stack) - 1 > MAX_YAML_DEPTH:
                raise error(f"{label}: line {event.start_mark.line + 1}: nested more than "
                            f"{MAX_YAML_DEPTH} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
            stack[-1][1] += size
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            stack[-1][1] += 1
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:
                raise error(f"{label}: line {event.start_mark.line + 1}: alias *{event.anchor} "
                            "refers to a value that contains it (a recursive structure)")
            stack[-1][1] += sizes[event.anchor]
        else:
            continue
        if stack[-1][1] > MAX_YAML_NODES:
            raise error(f"{label}: line {event.start_mark.line + 1}: the document expands to "
                        f"more than {MAX_YAML_NODES:,} values (aliases nested inside aliases?)")


def load_bundled(package: str, name: str) -> dict[str, Any]:
    """A YAML mapping shipped with haia (``name`` in ``package``), merged with every file of its
    drop-in folder beside it (``thresholds.d/`` for ``thresholds.yaml``): each file adds entries
    to the top-level mappings, so a capability brings its settings in a file of its own."""
    from importlib import resources

    base = resources.files(package)
    data = yaml.load((base / name).read_text(encoding="utf-8"), Loader=_SafeLoader)
    folder = base / name.replace(".yaml", ".d")
    if folder.is_dir():
        for part in sorted(folder.iterdir(), key=lambda p: p.name):
            if part.name.endswith(".yaml"):
                extra = yaml.load(part.read_text(encoding="utf-8"), Loader=_SafeLoader) or {}
                for key, value in extra.items():
                    if isinstance(value, dict):
                        data.setdefault(key, {}).update(value)
    return data


def with_overlay(config: dict[str, Any], path: str | None, what: str,
                 sections: tuple[str, ...] = ()) -> dict[str, Any]:
    """``config`` with the user's YAML file ``path`` laid over it: the entries of each of
    ``sections`` (mappings) updated, or, without sections, the top-level keys replaced. Every
    problem with the file is one line naming it."""
    if path is None:
        return config
    user = load_yaml_file(str(path), what) or {}
    if not isinstance(user, dict):
        wanted = f" with '{sections[-1]}'" if sections else ""
        raise HaiaError(f"{path}: expected a mapping{wanted}")
    for key in sections:
        if not isinstance(user.get(key) or {}, dict):
            raise HaiaError(f"{path}: '{key}' must be a mapping")
    if not sections:
        config.update(user)
    for key in sections:
        config[key].update(user.get(key) or {})
    return config


def load_yaml_file(path: str, what: str, error: type[HaiaError] = HaiaError) -> Any:
    """Read and parse a YAML file given on the command line; every failure is one line."""
    from pathlib import Path

    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a {what} file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if b"\x00" in raw[:8192]:
        raise error(f"{path}: not a text file (expected YAML {what})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: not a UTF-8 text file (expected YAML {what})") from None
    return load_yaml(text, str(path), error)


# --- HTTP headers -------------------------------------------------------------------------------

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 field-name


def check_header(name: str, value: str, what: str = "--header") -> None:
    """Refuse a header that could break or inject into the request."""
    if not _TOKEN.match(name):
        raise HaiaError(f"{what} {name!r}: a header name may hold only letters, digits and "
                        "!#$%&'*+-.^_`|~")
    bad = next((c for c in value if (ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F), None)
    if bad is not None:
        raise HaiaError(f"{what} {name}: the value holds a control character {bad!r} "
                        "(CR/LF would inject a header)")
    if not value.isascii():
        raise HaiaError(f"{what} {name}: the value holds a non-ASCII character; HTTP headers "
                        "carry ASCII only")


def check_headers(headers: dict[str, str]) -> None:
    for name, value in headers.items():
        check_header(name, value)


# --- concurrency --------------------------------------------------------------------------------

FILES_RESERVED = 64  # the run store, the report, Python's own, the judge's pool


def check_concurrency(concurrency: int, option: str = "--concurrency") -> None:
    """Each request in flight holds a socket: stay within the open-file limit (raising the soft
    limit to the hard one when that is enough)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = concurrency + FILES_RESERVED
    if soft == resource.RLIM_INFINITY or need <= soft:
        return
    if hard == resource.RLIM_INFINITY or need <= hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
            return
        except (ValueError, OSError):
            pass
    limit = (hard if hard != resource.RLIM_INFINITY else soft) - FILES_RESERVED
    raise HaiaError(f"{option} {concurrency}: above what the open-file limit allows "
                    f"(at most {max(limit, 1)} here; see 'ulimit -n')")


# --- numbers ------------------------------------------------------------------------------------

def _number(value: Any, where: str, *, low: float | None = None, high: float | None = None,
            integer: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer and not float(value).is_integer():
        ok = False
    if not ok or not math.isfinite(float(value)):
        kind = "a whole number" if integer else "a number"
        raise HaiaError(f"{where}: expected {kind}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"between {low:g} and {high:g}" if low is not None and high is not None else (
            f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise HaiaError(f"{where}: {value!r} is out of range (must be {span})")
    return float(value)


SEVERITIES = ("info", "low", "medium", "high", "critical")
DIRECTIONS = ("higher_is_better", "lower_is_better")
CORRECTIONS = ("maxt", "holm", "bh", "none")


def _cutoffs(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise HaiaError(f"{where}: expected a mapping of severity to number")
    for severity, cutoff in value.items():
        if severity not in SEVERITIES:
            raise HaiaError(f"{where}: unknown severity {severity!r} "
                            f"(use {', '.join(SEVERITIES)})")
        _number(cutoff, f"{where}.{severity}")


def check_thresholds(config: dict[str, Any], label: str) -> None:
    """The merged thresholds: every rule has the shape and the numbers the judge expects."""
    defaults = config.get("defaults")
    if not isinstance(defaults, dict):
        raise HaiaError(f"{label}: 'defaults' must be a mapping")
    checks: dict[str, Callable[[Any, str], Any]] = {
        "min_n": lambda v, w: _number(v, w, low=0, integer=True),
        "alpha": lambda v, w: _number(v, w, low=0, high=1),
        "min_families": lambda v, w: _number(v, w, low=1, integer=True),
        "permutations": lambda v, w: _number(v, w, low=1, high=10**7, integer=True),
    }
    for key, check in checks.items():
        if key in defaults:
            check(defaults[key], f"{label}: defaults.{key}")
    if "correction" in defaults and defaults["correction"] not in CORRECTIONS:
        raise HaiaError(f"{label}: defaults.correction: {defaults['correction']!r} is not one "
                        f"of {', '.join(CORRECTIONS)}")
    metrics = config.get("metrics")
    if not isinstance(metrics, dict):
        raise HaiaError(f"{label}: 'metrics' must be a mapping of metric name to rule")
    for metric, rule in metrics.items():
        where = f"{label}: metrics.{metric}"
        if not isinstance(rule, dict):
            raise HaiaError(f"{where}: expected a mapping (direction, cutoffs, ...)")
        if rule.get("direction", DIRECTIONS[0]) not in DIRECTIONS:
            raise HaiaError(f"{where}.direction: {rule['direction']!r} is not one of "
                            f"{', '.join(DIRECTIONS)}")
        for key in ("cutoffs", "gap_cutoffs"):
            if key in rule:
                _cutoffs(rule[key], f"{where}.{key}")
        if "min_n" in rule:
            _number(rule["min_n"], f"{where}.min_n", low=0, integer=True)


def check_sustainability(config: dict[str, Any], label: str) -> None:
    """The merged cost and energy assumptions: prices with compilable patterns, non-negative
    figures."""
    prices = config.get("prices", [])
    if not isinstance(prices, list):
        raise HaiaError(f"{label}: 'prices' must be a list")
    for n, entry in enumerate(prices, start=1):
        where = f"{label}: prices #{n}"
        if not isinstance(entry, dict) or "match" not in entry:
            raise HaiaError(f"{where}: expected a mapping with 'match'")
        compile_pattern(entry["match"], f"{where}.match")
        for key in ("input_per_m", "output_per_m"):
            if key in entry:
                _number(entry[key], f"{where}.{key}", low=0)
    for key in ("remote_wh_per_1k_tokens", "grid_gco2_per_kwh"):
        if key in config:
            _number(config[key], f"{label}: {key}", low=0)
    code = config.get("country_iso_code", "USA")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z]{3}", code):
        raise HaiaError(f"{label}: country_iso_code: expected a 3-letter ISO code, got {code!r}")


# --- suites -------------------------------------------------------------------------------------

def compile_pattern(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise HaiaError(f"{where}: expected a regular expression (text), got {pattern!r}")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError) as exc:
        raise HaiaError(f"{where}: invalid regular expression {pattern!r}: {exc}") from None


PATTERN_META_KEYS = ("asserts", "rejects", "canary")


def check_suite_patterns(suite: Any) -> None:
    """Compile every grader pattern of a loaded suite (rubric criteria, meta asserts/rejects/
    canary), naming the item and criterion of the first that does not compile."""
    from haia.errors import SuiteError

    label = suite.path or suite.name
    for item in suite.items:
        try:
            for criterion in item.rubric or []:
                for pattern in criterion.patterns:
                    compile_pattern(pattern, f"item {item.id!r}: criterion {criterion.id!r}")
            for key in PATTERN_META_KEYS:
                values = item.meta.get(key)
                if values is None:
                    continue
                if not isinstance(values, list):
                    raise HaiaError(f"item {item.id!r}: meta.{key}: expected a list of "
                                    "regular expressions")
                for pattern in values:
                    compile_pattern(pattern, f"item {item.id!r}: meta.{key}")
        except HaiaError as exc:
            raise SuiteError(f"{label}: {exc}") from None
