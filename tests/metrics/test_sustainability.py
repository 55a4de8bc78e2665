"""Cost and energy per 1,000 queries: priced from the table, estimated or measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import run_haia

from haia.testing.openai_server import Reply, ScriptedServer


def mc_suite(path: Path, n: int = 10) -> Path:
    items = "\n".join(f'  - {{id: q{k}, prompt: "Question {k}", choices: {{A: a, B: b}}, '
                      f'answer: B}}' for k in range(n))
    path.write_text(f'name: cost\nversion: "1"\ndescription: d\nprovenance: p\nlicence: CC0-1.0\n'
                    f"items:\n{items}\n")
    return path


def test_hosted_model_cost_and_estimated_energy(tmp_path: Path, haia_home: Path) -> None:
    suite = mc_suite(tmp_path / "s.yaml")
    usage = {"prompt_tokens": 1000, "completion_tokens": 200}
    settings = tmp_path / "sus.yaml"
    settings.write_text("remote_wh_per_1k_tokens: 2.0\ngrid_gco2_per_kwh: 100\n")
    with ScriptedServer(lambda body: Reply(text="B", usage=usage)) as srv:
        result = run_haia("audit", "--model", f"openai:gpt-4o-mini@{srv.base_url}", "--suite",
                          str(suite), "--out", str(tmp_path / "o"), "--sustainability",
                          str(settings))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    sus = report["sustainability"]
    # 1,000 x (1000 x 0.15 + 200 x 0.60) / 1e6 US$ per 1,000 queries
    assert sus["cost_usd_per_1k"] == pytest.approx(0.27)
    assert sus["energy_wh_per_1k"] == pytest.approx(200 * 2.0)  # 200 tokens x 2 Wh / 1k tokens
    assert sus["emissions_g_per_1k"] == pytest.approx(0.4 * 100)  # 0.4 kWh x 100 g/kWh
    assert "estimated" in sus["energy_method"]
    metrics = {m["metric"] for m in report["metrics"]}
    assert {"cost_usd_per_1k", "energy_wh_per_1k", "latency_p95_s"} <= metrics
    assert "Cost and energy" in (tmp_path / "o" / "report.html").read_text()


def test_bad_settings_file_is_one_clear_error(tmp_path: Path, haia_home: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just a list\n")
    result = run_haia("audit", "--model", "openai:m@http://127.0.0.1:9/v1", "--suite",
                      str(mc_suite(tmp_path / "s.yaml")), "--sustainability", str(bad))
    assert result.returncode == 2
    assert "expected a mapping" in result.stderr and "Traceback" not in result.stderr
