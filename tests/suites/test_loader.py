"""The suite format: valid suites load; every malformed one is one clear line and exit code 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.conftest import run_haia

from haia.errors import SuiteError
from haia.suites.loader import load_suite
from haia.suites.render import render_messages

HEADER = """\
name: tiny
version: "1.0"
description: a test suite
provenance: written for this test
licence: CC0-1.0
principles: [wellbeing_safety]
"""

GOOD_ITEMS = """\
items:
  - id: a1
    prompt: "Which vitamin deficiency causes scurvy?"
    choices: {A: Vitamin A, B: Vitamin C}
    answer: B
    attributes: {specialty: nutrition, age: 40}
  - id: a2
    messages:
      - role: user
        content:
          - {type: text, text: "Is this heart rate trend normal?"}
          - {type: data, caption: "bpm per minute", data: [88, 120, 135]}
    answer: ["no"]
    scorers: [short_answer]
"""


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_suite_loads_and_renders(tmp_path: Path) -> None:
    suite = load_suite(str(write(tmp_path, HEADER + GOOD_ITEMS)))
    assert [i.id for i in suite.items] == ["a1", "a2"]
    assert suite.items[0].attributes == {"specialty": "nutrition", "age": "40"}
    first = render_messages(suite.items[0])
    assert first[-1]["content"].endswith("A. Vitamin A\nB. Vitamin C\n\n"
                                         "Answer with the letter of the single best option.")
    second = render_messages(suite.items[1])
    assert '[\n88' not in second[0]["content"] and "[88,120,135]" in second[0]["content"].replace(
        " ", "")
    assert suite.scorers_for(suite.items[1]) == ["short_answer"]
    assert suite.scorers_for(suite.items[0]) == ["choice"]


def test_content_hash_changes_with_content(tmp_path: Path) -> None:
    one = load_suite(str(write(tmp_path, HEADER + GOOD_ITEMS))).content_hash()
    two = load_suite(str(write(tmp_path, HEADER + GOOD_ITEMS.replace("scurvy", "rickets"),
                               "other.yaml"))).content_hash()
    assert one != two


def test_jsonl_suite(tmp_path: Path) -> None:
    lines = [{"suite": {"name": "j", "version": "1", "description": "d", "provenance": "p",
                        "licence": "CC0-1.0"}},
             {"id": "x1", "prompt": "2+2?", "choices": {"A": "3", "B": "4"}, "answer": "B"}]
    path = write(tmp_path, "\n".join(json.dumps(x) for x in lines), "s.jsonl")
    assert load_suite(str(path)).items[0].answer == "B"


# Each malformed suite and the regular expression its one-line error must match (after the path).
MALFORMED = {
    "bad_yaml": (HEADER + "items:\n  - id: a1\n    prompt: [unclosed\n",
                 r"line \d+: invalid YAML"),
    "missing_field": (HEADER + "items:\n  - id: a1\n    choices: {A: x, B: y}\n",
                      r"item 'a1': give exactly one of 'prompt' or 'messages'"),
    "missing_meta": (HEADER.replace("licence: CC0-1.0\n", "") + GOOD_ITEMS,
                     r"field 'licence': missing"),
    "wrong_type": (HEADER + "items:\n  - id: a1\n    prompt: hi\n    choices: [x, y]\n",
                   r"item 'a1': field 'choices': Input should be a valid dictionary"),
    "duplicate_id": (HEADER + GOOD_ITEMS + "  - id: a1\n    prompt: again\n",
                     r"item 'a1': duplicate id \(first used by item #1\)"),
    "bad_answer": (HEADER + "items:\n  - id: a9\n    prompt: q\n    choices: {A: x, B: y}\n"
                   "    answer: C\n", r"item 'a9': 'answer' 'C' is not one of the choices"),
    "unknown_field": (HEADER + "items:\n  - id: a1\n    prompt: q\n    colour: red\n",
                      r"item 'a1': field 'colour': unknown field"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_suite_is_one_clear_error(tmp_path: Path, case: str) -> None:
    text, expected = MALFORMED[case]
    path = write(tmp_path, text)
    with pytest.raises(SuiteError) as caught:
        load_suite(str(path))
    assert re.fullmatch(re.escape(f"{path}: ") + expected + ".*", str(caught.value))


@pytest.mark.parametrize("case", ["bad_yaml", "wrong_type", "duplicate_id", "missing_meta"])
def test_cli_malformed_suite_exits_2_with_one_line(tmp_path: Path, case: str) -> None:
    text, expected = MALFORMED[case]
    path = write(tmp_path, text)
    result = run_haia("audit", "--suite", str(path), "--model", "openai:m@http://127.0.0.1:9/v1",
                      "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert re.fullmatch("error: " + re.escape(f"{path}: ") + expected + ".*", lines[0])
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_suite_name_lists_bundled(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="unknown suite 'nope'"):
        load_suite("nope")


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(SuiteError, match="not a UTF-8 text file"):
        load_suite(str(path))


# Written by haia 0.1.0 at 286647f, before `structured` and `aliases` existed: a run of this
# suite started then must still resume (its stored suite hash must match today's).
TINY = """name: tiny
version: "1"
description: d
provenance: test
licence: CC0-1.0
scorers: [choice, short_answer]
items:
  - {id: t1, prompt: "Which organ pumps blood?", choices: {A: Heart, B: Liver}, answer: A, \
attributes: {kind: anatomy}}
  - {id: t2, prompt: "Name the vitamin made in sunlit skin.", answer: [vitamin D], \
attributes: {kind: nutrition}}
"""
TINY_HASH_0_1 = "651b7372252c522e0d03e98c2a8e808446e2f4027bd0a2c7bbd815bc26c3da02"


def test_suite_hash_is_unchanged_by_fields_added_later(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    suite = load_suite(str(path))
    assert suite.content_hash() == TINY_HASH_0_1
    path.write_text(TINY.replace("scorers: [choice, short_answer]",
                                 "scorers: [choice, short_answer]\nstructured: true"))
    assert load_suite(str(path)).content_hash() != TINY_HASH_0_1
