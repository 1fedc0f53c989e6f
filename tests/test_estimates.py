"""Sampled estimates: intervals cover the exact value and shrink like 1/sqrt(N)."""

from __future__ import annotations

import numpy as np
import pytest

from lookaround.theory.analysis import analyze
from lookaround.theory.estimates import estimate_context
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source


@pytest.mark.parametrize("name", ["topic", "hmm"])
def test_bootstrap_intervals_cover_the_exact_values_and_shrink(name):
    source = preset_source(name)
    objective = parse_objective("ar", source.length)
    exact = analyze(source, objective, 1, level="context").context
    truth = {"s_2": exact.spectrum[1], "phi": exact.disagreement}
    widths = {n: {key: [] for key in truth} for n in (5000, 20000)}
    covered = {key: 0 for key in truth}
    for seed in range(20):
        for n in (5000, 20000):
            est = estimate_context(source, objective, 1, n, seed=seed, bootstrap=100)
            for key, value in truth.items():
                low, high = est.intervals[key]
                widths[n][key].append(high - low)
                if n == 20000:
                    covered[key] += int(low <= value <= high)
    # nominal 95%: at least 16 of 20 (a binomial(20, 0.95) falls below with p ~ 0.3%)
    assert all(count >= 16 for count in covered.values()), covered
    for key in truth:
        ratio = np.mean(widths[5000][key]) / np.mean(widths[20000][key])
        assert 1.6 < ratio < 2.5, (key, ratio)  # 1/sqrt(N): 4x the draws, half the width


def test_same_seed_same_estimate():
    source, objective = preset_source("markov"), parse_objective("mlm:2", 5)
    a = estimate_context(source, objective, 2, 3000, seed=5, bootstrap=20)
    b = estimate_context(source, objective, 2, 3000, seed=5, bootstrap=20)
    assert a.to_dict() == b.to_dict()


def test_sparse_draws_carry_a_warning():
    source = preset_source("markov")
    objective = parse_objective("ar", 5)
    sparse = estimate_context(source, objective, 1, 300, bootstrap=10).to_dict()
    dense = estimate_context(source, objective, 1, 50_000, bootstrap=10).to_dict()
    assert "warning" in sparse and sparse["singleton_fraction"] > 0.05
    assert "warning" not in dense
