"""How long each report format takes to render, against writing report.json (the baseline, in
the same run), for the report-test fixture audit (660 items, 72 comparisons) or a report.json
given on the command line.

    python bench/report_render.py [path/to/report.json]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fixture_report(folder: Path) -> dict:
    from tests.report.fixture import haia_home, run_fixture

    with haia_home(folder / "home"):
        result = run_fixture(folder / "run")
    return json.loads((result.out_dir / "report.json").read_text(encoding="utf-8"))


def main() -> None:
    from haia.report.charts import build_charts
    from haia.report.write import write_report

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = (json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")) if len(sys.argv) > 1
                  else fixture_report(folder))
        build_charts(report)  # warm the matplotlib import
        timings = {}
        for fmt in ("json", "html", "pdf", "model-card", "annex-iv"):
            start = time.perf_counter()
            write_report(report, folder / "out", [fmt])
            timings[fmt] = time.perf_counter() - start
        start = time.perf_counter()
        charts = build_charts(report)
        timings["charts alone"] = time.perf_counter() - start
        base = timings["json"]
        print(f"{len(report['metrics'])} metric rows, {len(report.get('comparisons') or [])} "
              f"comparisons, {len(charts)} charts")
        print(f"{'format':<14} {'seconds':>8} {'x json':>8}")
        for fmt, seconds in timings.items():
            print(f"{fmt:<14} {seconds:8.3f} {seconds / base:8.1f}")


if __name__ == "__main__":
    main()
