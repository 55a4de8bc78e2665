"""Bad inputs to ``haia audit`` fail with one line and exit 2 before the first request."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.faults.conftest import assert_one_line, cli, write_suite

from haia.testing.openai_server import ScriptedServer

ALIAS_BOMB = """name: bomb
version: "1"
description: d
provenance: p
licence: CC0-1.0
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
items:
  - {id: x, prompt: *h}
"""


def _suite_cases(tmp: Path) -> dict[str, tuple[Path, str]]:
    """Suite files that must be refused, and a word of the expected message."""
    cases: dict[str, tuple[Path, str]] = {}
    bomb = tmp / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    cases["alias bomb"] = (bomb, "expands to more than")
    deep = tmp / "deep.yaml"
    deep.write_text("name: deep\nversion: '1'\ndescription: d\nprovenance: p\nlicence: x\n"
                    "items:\n  - id: a\n    prompt: p\n    meta: " + "[" * 5000 + "]" * 5000 + "\n")
    cases["deeply nested"] = (deep, "nested")
    deep_jsonl = tmp / "deep.jsonl"
    deep_jsonl.write_text('{"suite": {"name": "dj", "version": "1", "description": "d", '
                          '"provenance": "p", "licence": "x"}}\n'
                          '{"id": "a", "prompt": "p", "meta": {"x": ' + "[" * 100_000
                          + "]" * 100_000 + "}}\n")
    cases["deeply nested jsonl"] = (deep_jsonl, "nested too deeply")
    selfish = tmp / "self.yaml"
    selfish.write_text("name: selfish\nversion: '1'\ndescription: d\nprovenance: p\nlicence: x\n"
                       f"derive: {{from: {selfish}, transforms: [typo]}}\n")
    cases["derives from itself"] = (selfish, "derives from itself")
    ping, pong = tmp / "ping.yaml", tmp / "pong.yaml"
    for me, other in ((ping, pong), (pong, ping)):
        me.write_text(f"name: {me.stem}\nversion: '1'\ndescription: d\nprovenance: p\n"
                      f"licence: x\nderive: {{from: {other}, transforms: [typo]}}\n")
    cases["derive cycle"] = (ping, "derives from itself")
    recursive = tmp / "recursive.yaml"
    recursive.write_text("name: rec\nversion: '1'\ndescription: d\nprovenance: p\nlicence: x\n"
                         "items:\n  - &x {id: a, prompt: p, meta: {self: *x}}\n")
    cases["recursive alias"] = (recursive, "recursive")
    cases["max_tokens -5"] = (write_suite(tmp / "mt.yaml", extra="max_tokens: -5"), "max_tokens")
    cases["max_tokens text"] = (write_suite(tmp / "mt2.yaml", extra="max_tokens: lots"),
                                "max_tokens")
    rubric = tmp / "rubric.yaml"
    rubric.write_text("name: rub\nversion: '1'\ndescription: d\nprovenance: p\nlicence: x\n"
                      "scorers: [rubric]\nitems:\n  - id: r1\n    prompt: p\n    rubric:\n"
                      "      - {id: c1, text: t, points: 1, patterns: ['(unclosed']}\n")
    cases["bad rubric regex"] = (rubric, "invalid regular expression")
    asserts = tmp / "asserts.yaml"
    asserts.write_text("name: ras\nversion: '1'\ndescription: d\nprovenance: p\nlicence: x\n"
                       "items:\n  - id: r1\n    prompt: p\n    meta: {asserts: ['[z-a]']}\n")
    cases["bad meta regex"] = (asserts, "invalid regular expression")
    binary = tmp / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 8)
    cases["binary suite"] = (binary, "")
    return cases


SUITE_CASES = ["alias bomb", "deeply nested", "deeply nested jsonl", "derives from itself",
               "derive cycle", "recursive alias", "max_tokens -5", "max_tokens text",
               "bad rubric regex", "bad meta regex", "binary suite"]


@pytest.mark.parametrize("case", SUITE_CASES)
def test_bad_suite_is_refused_before_any_request(case: str, tmp_path: Path, server: ScriptedServer,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path, word = _suite_cases(tmp_path)[case]
    result = cli(capsys, monkeypatch, "audit", "--model", f"openai:m@{server.base_url}",
                 "--suite", str(path), "--out", str(tmp_path / "out"))
    assert_one_line(result, 2, contains=word or None)
    assert server.requests == []


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    from haia.errors import SuiteError
    from haia.suites.loader import load_suite

    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    start = time.perf_counter()
    with pytest.raises(SuiteError, match="expands to more than"):
        load_suite(str(path))
    assert time.perf_counter() - start < 1.0  # was 38 s before the scan


def _file(tmp: Path, name: str, content: str | bytes) -> str:
    path = tmp / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


# (options, expected word of the one-line message), each with a file written in tmp_path.
OPTION_CASES: dict[str, tuple[list[str], str]] = {
    "thresholds binary": (["--thresholds", "@bin:" + "\x00\x01\x02" * 100], "not a text file"),
    "thresholds latin-1": (["--thresholds", "@raw:caf\xe9: 1"], "UTF-8"),
    "thresholds folder": (["--thresholds", "@dir"], "folder"),
    "thresholds missing": (["--thresholds", "/nonexistent/t.yaml"], "cannot read"),
    "thresholds cutoff string": (["--thresholds", "@txt:metrics:\n  accuracy:\n"
                                  "    cutoffs: {low: high}\n"], "expected a number"),
    "thresholds cutoff NaN": (["--thresholds", "@txt:metrics:\n  accuracy:\n"
                               "    cutoffs: {low: .nan}\n"], "expected a number"),
    "thresholds bad severity": (["--thresholds", "@txt:metrics:\n  accuracy:\n"
                                 "    cutoffs: {dire: 0.5}\n"], "unknown severity"),
    "thresholds direction": (["--thresholds", "@txt:metrics:\n  accuracy:\n"
                              "    direction: sideways\n"], "direction"),
    "thresholds min_n text": (["--thresholds", "@txt:defaults: {min_n: five}\n"], "min_n"),
    "thresholds alpha range": (["--thresholds", "@txt:defaults: {alpha: 5}\n"], "alpha"),
    "thresholds correction": (["--thresholds", "@txt:defaults: {correction: magic}\n"],
                              "correction"),
    "thresholds metrics list": (["--thresholds", "@txt:metrics: [1, 2]\n"], "mapping"),
    "thresholds alias bomb": (["--thresholds", "@txt:" + ALIAS_BOMB.replace("items:", "z:")],
                              "expands"),
    "sustainability price text": (["--sustainability", "@txt:prices:\n  - {match: '.*', "
                                   "input_per_m: cheap}\n"], "expected a number"),
    "sustainability bad regex": (["--sustainability", "@txt:prices:\n  - {match: '(('}\n"],
                                 "regular expression"),
    "sustainability negative": (["--sustainability", "@txt:grid_gco2_per_kwh: -3\n"],
                                "out of range"),
    "sustainability not a list": (["--sustainability", "@txt:prices: 3\n"], "list"),
    "sustainability binary": (["--sustainability", "@bin:\x00\xff\xfe"], "not a text file"),
    "header CRLF": (["--header", "X-A: b\r\nX-Injected: 1"], "control character"),
    "header LF": (["--header", "X-A: b\nX-Injected: 1"], "control character"),
    "header NUL": (["--header", "X-A: b\x00c"], "control character"),
    "header non-ASCII": (["--header", "X-A: café"], "non-ASCII"),
    "header bad name": (["--header", "X A: b"], "header name"),
    "header no colon": (["--header", "novalue"], "NAME:VALUE"),
    "concurrency 0": (["--concurrency", "0"], "concurrency"),
    "max-tokens 0": (["--max-tokens", "0"], "max-tokens"),
    "temperature 9": (["--temperature", "9"], "temperature"),
    "timeout -1": (["--timeout", "-1"], "timeout"),
    "max-failed 2": (["--max-failed", "2"], "max-failed"),
    "fail-on bogus": (["--fail-on", "bogus"], "severity"),
}


def _materialise(options: list[str], tmp: Path) -> list[str]:
    out = []
    for value in options:
        if value.startswith("@txt:"):
            value = _file(tmp, "opt.yaml", value[5:])
        elif value.startswith("@bin:"):
            value = _file(tmp, "opt.bin", value[5:].encode("latin-1"))
        elif value.startswith("@raw:"):
            value = _file(tmp, "opt.raw", value[5:].encode("latin-1"))
        elif value == "@dir":
            (tmp / "a-folder").mkdir()
            value = str(tmp / "a-folder")
        out.append(value)
    return out


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_bad_option_is_refused_before_any_request(case: str, tmp_path: Path,
                                                  server: ScriptedServer,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    options, word = OPTION_CASES[case]
    suite = write_suite(tmp_path / "suite.yaml")
    result = cli(capsys, monkeypatch, "audit", "--model", f"openai:m@{server.base_url}",
                 "--suite", str(suite), "--out", str(tmp_path / "out"),
                 *_materialise(options, tmp_path))
    assert_one_line(result, 2, contains=word)
    assert server.requests == []


def test_concurrency_beyond_the_open_file_limit(tmp_path: Path, server: ScriptedServer,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no open-file limit on this machine")
    result = cli(capsys, monkeypatch, "audit", "--model", f"openai:m@{server.base_url}",
                 "--suite", str(write_suite(tmp_path / "s.yaml")),
                 "--concurrency", str(max(hard, 100_000)))
    assert_one_line(result, 2, contains="open-file limit")
    assert server.requests == []


@pytest.mark.parametrize("key", ["sk-café", "sk-a\r\nX-Evil: 1", "sk-\x7f"])
def test_bad_api_key_is_one_line_without_the_key(key: str, tmp_path: Path,
                                                  server: ScriptedServer,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_KEY", key)
    result = cli(capsys, monkeypatch, "audit", "--model", f"openai:m@{server.base_url}",
                 "--suite", str(write_suite(tmp_path / "s.yaml")), "--api-key-env", "FAULT_KEY")
    assert_one_line(result, 2, contains="FAULT_KEY")
    assert "sk-" not in result.err  # the secret itself is never printed
    assert server.requests == []


def test_header_values_reach_the_server_unchanged(tmp_path: Path, server: ScriptedServer,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli(capsys, monkeypatch, "audit", "--model", f"openai:m@{server.base_url}",
                 "--suite", str(write_suite(tmp_path / "s.yaml")), "--out",
                 str(tmp_path / "o"), "--header", "X-Tenant: ward 7; a=b")
    assert result.code == 0, result.err
    assert {h.get("x-tenant") for h in server.headers_seen} == {"ward 7; a=b"}


RESUME_IGNORED = [["--concurrency", "2"], ["--limit", "1"], ["--samples", "3"],
                  ["--temperature", "0.5"], ["--max-tokens", "9"], ["--thresholds", "t.yaml"],
                  ["--no-cache"], ["--seed", "4"], ["--judge", "builtin:smollm2"]]


@pytest.mark.parametrize("flags", RESUME_IGNORED, ids=lambda f: f[0])
def test_resume_refuses_flags_it_would_ignore(flags: list[str], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli(capsys, monkeypatch, "audit", "--resume", "r-any", *flags)
    assert_one_line(result, 2, contains=f"would ignore {flags[0]};")


def test_report_on_a_killed_run_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from haia.runner.store import RunRecord, RunStore, now_iso

    with RunStore() as store:
        store.create_run(RunRecord("r-killed", now_iso(), "running", "openai:m@http://x",
                                   "faults", "1", "h", {"suite": "starter"}, None))
    result = cli(capsys, monkeypatch, "report", "r-killed", "--out", str(tmp_path / "o"))
    assert_one_line(result, 2, contains="is running")
    assert "haia audit --resume r-killed" in result.err
    assert not (tmp_path / "o").exists()


def test_bundled_thresholds_and_sustainability_pass_their_own_checks() -> None:
    from haia.findings.judge import load_thresholds
    from haia.metrics.sustainability import load_config
    from haia.validate import check_sustainability, check_thresholds

    check_thresholds(load_thresholds(), "bundled thresholds")
    check_sustainability(load_config(), "bundled sustainability")
