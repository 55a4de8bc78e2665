"""``haia compare`` on two runs of scripted models with a planted change: the pain-relief gap
for Black patients is removed and a refusal gap for patients experiencing homelessness added;
the comparison must show the first as resolved and the second as new, with metric deltas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import run_haia
from tests.report.fixture import Plant, haia_home, run_fixture

from haia.report.compare import delta


@pytest.fixture(scope="module")
def after_run(fixed_run: dict) -> dict:
    with haia_home(fixed_run["home"]):
        result = run_fixture(fixed_run["folder"], Plant(black_no_analgesia=False,
                                                        homeless_refused=True), name="after")
    return {"run_id": result.run_id, "dir": result.out_dir}


def test_compare_shows_the_planted_change(fixed_run: dict, after_run: dict,
                                          tmp_path: Path) -> None:
    result = run_haia("compare", fixed_run["run_id"], after_run["run_id"], "--out",
                      str(tmp_path), env={"HAIA_HOME": str(fixed_run["home"])})
    assert result.returncode == 0, result.stderr
    comp = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))
    resolved = {(f["metric"], f["group"]) for f in comp["resolved"]}
    new = {(f["metric"], f["group"]) for f in comp["new"]}
    persisting = {(f["metric"], f["group"]) for f in comp["persisting"]}
    assert ("analgesic", "black") in resolved
    assert ("refusal", "homeless") in new
    assert ("triage_level", "homeless") in persisting  # unchanged plant
    assert ("accuracy", "cardiology") in persisting
    assert not resolved & new
    gap = next(g for g in comp["gaps"] if (g["metric"], g["group"], g["reference"])
               == ("analgesic", "black", "consensus"))
    assert gap["changed"] and gap["delta"] > 0.3 and gap["ci_low"] > 0
    refusal = next(m for m in comp["metrics"] if (m["metric"], m["attribute"], m["group"])
                   == ("refusal", "housing", "homeless"))
    assert refusal["changed"] and refusal["after"] > refusal["before"]
    assert "resolved" in result.stdout and "Black patient" in result.stdout
    html = (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert "What changed between two audits" in html and "Black patient" in html


def test_compare_accepts_report_files_and_rejects_others(fixed_run: dict, after_run: dict,
                                                         tmp_path: Path) -> None:
    env = {"HAIA_HOME": str(fixed_run["home"])}
    result = run_haia("compare", str(fixed_run["dir"] / "report.json"),
                      str(after_run["dir"] / "report.json"), "--out", str(tmp_path),
                      "--format", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["compare.json"]
    bogus = tmp_path / "x.json"
    bogus.write_text("{}")
    bad = run_haia("compare", str(bogus), fixed_run["run_id"], env=env)
    assert bad.returncode == 2 and "not a haia report" in bad.stderr


def test_delta_interval() -> None:
    a = {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6}
    b = {"value": 0.8, "ci_low": 0.7, "ci_high": 0.9}
    d = delta(a, b)
    assert d["delta"] == pytest.approx(0.3)
    assert d["ci_low"] == pytest.approx(0.3 - 0.1 * 2 ** 0.5, abs=1e-6) and d["changed"]
    same = delta(a, {"value": 0.52, "ci_low": 0.42, "ci_high": 0.62})
    assert not same["changed"]
    assert delta(a, {"value": 0.9, "ci_low": None, "ci_high": None})["changed"] is None
