"""The statistics behind equity findings: paired tests, effect intervals, multiplicity control.

Small, vectorised, seeded, and checked against SciPy in the tests.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import Any

import numpy as np

EXACT_LIMIT = 16  # sign-flip permutation test enumerated exactly up to this many non-zero pairs
MONTE_CARLO = 20_000


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts ``b`` (yes/no), ``c`` (no/yes)."""
    if b + c == 0:
        return 1.0
    from scipy import stats  # imported when first needed: it is most of an audit's start-up

    return float(stats.binomtest(min(b, c), b + c, 0.5).pvalue)


def sign_flip_test(diffs: np.ndarray, seed: int = 0) -> float:
    """Two-sided paired permutation test of mean difference 0 (random sign flips).

    Exact for up to :data:`EXACT_LIMIT` non-zero differences, Monte Carlo (seeded) above; handles
    ties and zeros, so it suits ordinal outcomes and per-family means over repeated samples.
    """
    d = np.asarray(diffs, dtype=float)
    d = d[d != 0]
    n = len(d)
    if n == 0:
        return 1.0
    observed = abs(d.sum())
    signs = _signs(n, seed)
    sums = np.abs(signs @ d)
    extreme = int(np.count_nonzero(sums >= observed - 1e-12))
    if n <= EXACT_LIMIT:
        return extreme / len(signs)
    return (extreme + 1) / (len(signs) + 1)


@lru_cache(maxsize=64)
def _signs(n: int, seed: int) -> np.ndarray:
    """All sign vectors of length ``n`` (exact), or :data:`MONTE_CARLO` seeded random ones."""
    if n <= EXACT_LIMIT:
        return np.array(list(itertools.product((1.0, -1.0), repeat=n)))
    rng = np.random.default_rng(seed)
    return rng.choice((1.0, -1.0), size=(MONTE_CARLO, n))


def wilcoxon_p(diffs: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value (zeros dropped), for reports that want it."""
    d = np.asarray(diffs, dtype=float)
    d = d[d != 0]
    if len(d) == 0:
        return 1.0
    from scipy import stats

    return float(stats.wilcoxon(d, zero_method="wilcox").pvalue)


BOOTSTRAP_BLOCK = 1_000_000  # resampled values drawn at once (8 MB of indices)


DISCRETE_LEVELS = 64
"""Up to this many distinct values, a resample is drawn as counts per value (multinomial)."""


def resampled_means(values: np.ndarray, rng: np.random.Generator,
                    resamples: int) -> np.ndarray:
    """The means of ``resamples`` bootstrap resamples of ``values`` (n draws with
    replacement each). Values taking few distinct levels (0/1 scores, paired differences in
    -1/0/1) are resampled as multinomial counts per level, which is the same distribution as
    drawing n indices and costs O(levels) instead of O(n) per resample; other values a block of
    index rows at a time, so memory stays bounded for 100,000 values."""
    n = values.size
    levels, counts = np.unique(values, return_counts=True)
    if levels.size <= DISCRETE_LEVELS:
        drawn = rng.multinomial(n, counts / n, size=resamples)
        return drawn @ levels / n
    step = max(1, BOOTSTRAP_BLOCK // n)
    means = np.empty(resamples)
    for start in range(0, resamples, step):
        rows = min(step, resamples - start)
        means[start:start + rows] = values[rng.integers(0, n, size=(rows, n))].mean(axis=1)
    return means


def bootstrap_ci(values: np.ndarray, *, seed: int, resamples: int = 2000,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (seeded); the one bootstrap of
    haia (per-group metrics, agreement, derived metrics, equity gaps)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return (math.nan, math.nan)
    if v.size == 1 or np.all(v == v[0]):
        return (float(v[0]), float(v[0]))
    return percentile_interval(resampled_means(v, np.random.default_rng(seed), resamples), level)


def percentile(values: Any, q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated (NumPy's default);
    None when there are none. The one percentile of haia (latencies, intervals)."""
    v = np.asarray(values, dtype=float)
    return float(np.percentile(v, q)) if v.size else None


def percentile_interval(values: Any, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` interval of ``values`` (resampled statistics)."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(np.asarray(values, dtype=float), [tail, 100 - tail])
    return float(low), float(high)


def cohen_kappas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cohen's kappa of binary labels row by row (``a``, ``b``: resamples x n); 1 where both
    raters gave one and the same label throughout, 0 where chance agreement is total. Tested
    equal to scikit-learn's ``cohen_kappa_score``."""
    observed = (a == b).mean(axis=1)
    pa, pb = a.mean(axis=1), b.mean(axis=1)
    expected = pa * pb + (1 - pa) * (1 - pb)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(expected < 1, (observed - expected) / (1 - expected), 0.0)
    return np.where((observed == 1) & (expected == 1), 1.0, kappa)


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two raters' binary labels."""
    return float(cohen_kappas(np.asarray(a)[None, :], np.asarray(b)[None, :])[0])


def kappa_interval(a: np.ndarray, b: np.ndarray, *, seed: int, resamples: int = 1000,
                   level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of Cohen's kappa (items resampled, seeded)."""
    a, b = np.asarray(a), np.asarray(b)
    idx = np.random.default_rng(seed).integers(0, a.size, size=(resamples, a.size))
    return percentile_interval(cohen_kappas(a[idx], b[idx]), level)


def holm(pvalues: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error control)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (false-discovery-rate control)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for rank, i in enumerate(order):
        running = min(running, pvalues[i] * m / (m - rank))
        adjusted[i] = min(1.0, running)
    return adjusted


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg, "none": lambda p: list(p)}


def maxt_stepdown(observed: np.ndarray, permuted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Westfall–Young step-down maxT: raw and family-wise adjusted permutation p-values.

    ``observed`` holds one statistic per hypothesis (shape ``H``), ``permuted`` the same statistics
    recomputed under ``B`` joint permutations of the data (shape ``B x H``); both are compared in
    absolute value (two-sided). Because the permutations are joint, the adjustment accounts for the
    correlation between hypotheses and for discreteness: a hypothesis whose statistic can never be
    large (few informative pairs) does not raise the bar for the others. Strong family-wise error
    control under subset pivotality (Westfall & Young 1993, algorithm 4.1).
    """
    obs = np.abs(np.asarray(observed, dtype=float))
    perm = np.abs(np.asarray(permuted, dtype=float))
    if obs.size == 0:
        return np.array([]), np.array([])
    b = perm.shape[0]
    tol = 1e-9
    raw = (1 + np.count_nonzero(perm >= obs - tol, axis=0)) / (b + 1)
    order = np.argsort(-obs, kind="stable")
    successive = np.maximum.accumulate(perm[:, order][:, ::-1], axis=1)[:, ::-1]
    stepped = (1 + np.count_nonzero(successive >= obs[order] - tol, axis=0)) / (b + 1)
    stepped = np.maximum.accumulate(stepped)
    adjusted = np.empty_like(stepped)
    adjusted[order] = stepped
    return raw, adjusted
