"""Sustainability and cost of a run: tokens, latency, price and energy per 1,000 queries.

Local models (``builtin:``, ``hf:``) have their energy measured by CodeCarbon in offline mode
around the generation (CPU and RAM power, per-country carbon intensity, no network); hosted models
get an estimate from a configurable energy-per-token figure. Prices come from a configurable
table (``sustainability.yaml``). All figures are reported per 1,000 queries so that models and
suites compare.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from haia.metrics.stats import percentile
from haia.metrics.table import MetricRow
from haia.record import SampleRecord


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The bundled assumptions, with a user file's keys laid over them."""
    from haia.validate import check_sustainability, load_bundled, with_overlay

    config = load_bundled("haia.metrics", "sustainability.yaml")
    if path is not None:
        with_overlay(config, str(path), "sustainability settings")
        check_sustainability(config, str(path))  # before the first request, not after the last
    return config


@dataclass
class EnergyReading:
    """Energy measured around one stretch of generation."""

    kwh: float
    seconds: float
    emissions_kg: float
    method: str


@contextlib.contextmanager
def measure_energy(model_spec: str, config: dict[str, Any],
                   readings: list[EnergyReading]) -> Iterator[None]:
    """Measure a local model's energy with CodeCarbon (offline) and append the reading to
    ``readings`` (nothing for a hosted model, or when CodeCarbon is not installed)."""
    from haia.models.registry import is_local

    if not is_local(model_spec):
        yield
        return
    try:
        from codecarbon import OfflineEmissionsTracker
    except ImportError:
        yield
        return
    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    tracker = OfflineEmissionsTracker(
        country_iso_code=str(config.get("country_iso_code", "USA")), log_level="error",
        save_to_file=False, measure_power_secs=5, tracking_mode="process")
    tracker.start()
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            emissions = tracker.stop() or 0.0
            data = tracker.final_emissions_data
            readings.append(EnergyReading(float(data.energy_consumed), float(data.duration),
                                          float(emissions), "codecarbon"))


def _price(model_spec: str, config: dict[str, Any]) -> dict[str, float]:
    for entry in config.get("prices", []):
        if re.search(str(entry["match"]), model_spec):
            return {"input": float(entry.get("input_per_m", 0)),
                    "output": float(entry.get("output_per_m", 0))}
    return {"input": 0.0, "output": 0.0}


RUN_METRICS = ("tokens_per_query", "latency_p95_s", "cost_usd_per_1k", "energy_wh_per_1k",
               "emissions_g_per_1k")
"""The cost and energy metrics every run reports, whatever its suite."""


def summarise(suite: str, model_spec: str, responses: list[SampleRecord],
              energy: list[dict[str, Any]], config: dict[str, Any]) -> tuple[
                  list[MetricRow], dict[str, Any]]:
    """Metric rows (attribute ``overall``) and a summary for the report's sustainability section.

    Cached responses cost nothing in this run but are counted at their original usage, so that
    the per-query figures describe the model, not the cache.
    """
    ok = [r for r in responses if r.status == "ok"]
    n = len(ok)
    if n == 0:
        return [], {}
    prompt = np.array([r.prompt_tokens for r in ok], dtype=float)
    completion = np.array([r.completion_tokens for r in ok], dtype=float)
    latency = np.array([r.latency_s for r in ok if not r.cached], dtype=float)
    price = _price(model_spec, config)
    cost_per_query = (prompt * price["input"] + completion * price["output"]) / 1e6
    measured = [e for e in energy if e.get("method") == "codecarbon"]
    fresh = sum(1 for r in ok if not r.cached)
    if measured and fresh:
        kwh = sum(float(e["kwh"]) for e in measured)
        wh_per_query = kwh * 1000 / fresh
        emissions_g = sum(float(e["emissions_kg"]) for e in measured) * 1000 / fresh
        method = "measured with CodeCarbon (offline mode, CPU + RAM)"
    else:
        wh_per_query = float(completion.mean()) * float(config["remote_wh_per_1k_tokens"]) / 1000
        emissions_g = wh_per_query / 1000 * float(config["grid_gco2_per_kwh"])
        method = (f"estimated at {config['remote_wh_per_1k_tokens']} Wh per 1,000 generated "
                  "tokens (configurable)")
    figures = {
        "queries": n,
        "tokens_per_query": float((prompt + completion).mean()),
        "completion_tokens_per_query": float(completion.mean()),
        "latency_p50_s": percentile(latency, 50),
        "latency_p95_s": percentile(latency, 95),
        "cost_usd_per_1k": float(cost_per_query.mean() * 1000),
        "energy_wh_per_1k": wh_per_query * 1000,
        "emissions_g_per_1k": emissions_g * 1000,
        "energy_method": method,
        "price_usd_per_m_tokens": price,
    }
    rows = [MetricRow(suite, name, "overall", "all", figures[name], None, None, n)
            for name in RUN_METRICS if figures[name] is not None]
    return rows, figures
