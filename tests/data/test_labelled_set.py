"""Format checks for the blind labelled grader validation set (tests/data/graders/labelled.jsonl).

These check the data file itself (fields, enums, ids, that every answer refers to a bundled item
of the right kind, and the balance the set promises); grader agreement on it is measured by
bench/graders.py and its regression test, not here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from haia.suites.loader import load_suite
from haia.suites.model import Suite

LABELLED = Path(__file__).resolve().parent / "graders" / "labelled.jsonl"
FIELDS = {"id", "suite", "item", "kind", "answer", "verdict", "harmful", "reason", "labeller"}
SUITES = {"safety", "transparency", "accuracy", "race-medicine"}
RUBRIC_SUITES = {"safety", "transparency"}
KINDS = {"good", "good_hedged", "good_terse", "subtly_wrong", "harmful", "evasive", "reworded"}
PASSING_KINDS = {"good", "good_hedged", "good_terse", "reworded"}
VERDICTS = {"pass", "fail"}


@cache
def _records() -> tuple[dict, ...]:
    rows = []
    for number, line in enumerate(LABELLED.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"line {number} is blank"
        rows.append(json.loads(line))
    return tuple(rows)


@cache
def _suite(name: str) -> Suite:
    return load_suite(name)


def test_every_record_has_exactly_the_documented_fields() -> None:
    for record in _records():
        assert set(record) == FIELDS, record.get("id")


def test_field_values_are_well_formed() -> None:
    for record in _records():
        rid = record["id"]
        assert re.fullmatch(r"lab-\d{4}", rid), rid
        assert record["suite"] in SUITES, rid
        assert record["kind"] in KINDS, rid
        assert record["verdict"] in VERDICTS, rid
        assert isinstance(record["harmful"], bool), rid
        for text_field in ("answer", "reason", "labeller", "item"):
            assert isinstance(record[text_field], str) and record[text_field].strip(), rid


def test_ids_are_unique() -> None:
    counts = Counter(record["id"] for record in _records())
    assert [rid for rid, n in counts.items() if n > 1] == []


def test_answers_are_not_duplicated_within_an_item() -> None:
    counts = Counter((r["item"], r["answer"].strip().lower()) for r in _records())
    assert [key for key, n in counts.items() if n > 1] == []


def test_every_answer_refers_to_a_bundled_item_of_the_right_kind() -> None:
    for record in _records():
        suite = _suite(record["suite"])
        items = {item.id: item for item in suite.items}
        assert record["item"] in items, f"{record['id']}: no item {record['item']}"
        item = items[record["item"]]
        scorers = suite.scorers_for(item)
        if record["suite"] in RUBRIC_SUITES:
            assert item.rubric, f"{record['id']}: {item.id} has no rubric"
        elif record["suite"] == "accuracy":
            assert "short_answer" in scorers, f"{record['id']}: {item.id} is not short-answer"
        else:
            assert "race_medicine" in scorers, f"{record['id']}: {item.id}"


def test_harm_flag_is_consistent_with_the_verdict_rules() -> None:
    for record in _records():
        if record["harmful"]:
            assert record["verdict"] == "fail", f"{record['id']}: a harmful answer must fail"
            assert record["suite"] in RUBRIC_SUITES, f"{record['id']}: harm is rubric-only"


def test_kinds_agree_with_verdicts() -> None:
    """'harmful' and 'subtly_wrong' answers fail; the good kinds pass (evasive depends on suite)."""
    for record in _records():
        if record["kind"] in {"harmful", "subtly_wrong"}:
            assert record["verdict"] == "fail", record["id"]
        elif record["kind"] in PASSING_KINDS:
            assert record["verdict"] == "pass", record["id"]


def test_the_set_is_large_varied_and_balanced() -> None:
    records = _records()
    assert len(records) >= 300
    by_suite = Counter(record["suite"] for record in records)
    assert set(by_suite) == SUITES
    for suite, count in by_suite.items():
        verdicts = Counter(r["verdict"] for r in records if r["suite"] == suite)
        assert verdicts["pass"] and verdicts["fail"], suite
        assert 0.3 <= verdicts["pass"] / count <= 0.7, suite
    assert sum(r["harmful"] for r in records) >= 30
    assert {r["kind"] for r in records} == KINDS


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_item_of_each_suite_is_covered(suite: str) -> None:
    loaded = _suite(suite)
    wanted = {item.id for item in loaded.items
              if suite != "accuracy" or "short_answer" in loaded.scorers_for(item)}
    covered = {r["item"] for r in _records() if r["suite"] == suite}
    assert wanted - covered == set()
