"""Golden reports: the bundled suites on the scripted test models, normalised for comparison.

``python -m tests.golden.golden`` (from the repository root) rewrites ``tests/data/golden/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from haia.audit import AuditConfig, run_audit
from haia.runner.store import RunStore
from haia.testing.openai_server import ScriptedServer

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
VOLATILE = {"run_id", "created", "finished", "duration_s", "started", "latency_ms",
            "haia_version", "out", "path", "signature", "date", "generated", "timestamp"}
PORT = re.compile(r"127\.0\.0\.1:\d+")
RUN_ID = re.compile(r"r\d{8}-\d{6}-[0-9a-f]{6}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T[0-9:.]+(\+00:00|Z)?)?")


def normalise(value: Any, tmp: str = "") -> Any:
    """``value`` without what changes from run to run (times, ids, ports, paths)."""
    if isinstance(value, dict):
        timed = "latency" in str(value.get("metric", ""))
        return {k: ("<volatile>" if k in VOLATILE or "latency" in k
                    or (timed and k in ("value", "ci_low", "ci_high")) else normalise(v, tmp))
                for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, tmp) for v in value]
    if isinstance(value, str):
        if tmp:
            value = value.replace(tmp, "<tmp>")
        value = PORT.sub("127.0.0.1:<port>", value)
        value = RUN_ID.sub("<run-id>", value)
        return DATE.sub("<date>", value)
    if isinstance(value, float):
        return round(value, 9)
    return value


def always_b(body: dict[str, Any]) -> str:
    return "B"


def starter_report(folder: Path) -> dict[str, Any]:
    """The default audit (starter suite) answered 'B' by the scripted server."""
    with ScriptedServer(always_b) as srv, RunStore() as store:
        result = run_audit(AuditConfig(model=f"openai:scripted@{srv.base_url}", suite="starter",
                                       out=str(folder / "starter"), concurrency=8), store=store)
    return json.loads((result.out_dir / "report.json").read_text(encoding="utf-8"))


def fixture_report(folder: Path) -> dict[str, Any]:
    """The report tests' fixture audit (noisy scripted model, planted effects)."""
    from tests.report.fixture import run_fixture

    result = run_fixture(folder / "fixture")
    return json.loads((result.out_dir / "report.json").read_text(encoding="utf-8"))


CASES = {"starter": starter_report, "report-fixture": fixture_report}


def produce(name: str, folder: Path) -> dict[str, Any]:
    return normalise(CASES[name](folder), str(folder))


if __name__ == "__main__":
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HAIA_HOME"] = tmp
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for case in CASES:
            data = produce(case, Path(tmp))
            (GOLDEN / f"{case}.json").write_text(json.dumps(data, indent=1, sort_keys=True)
                                                 + "\n", encoding="utf-8")
