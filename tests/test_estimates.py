"""Sampled estimates: every printed interval is tested for coverage of the exact value over
40 seeds on three sources; widths shrink like 1/sqrt(N); unreliable estimates print none."""

from __future__ import annotations

import numpy as np
import pytest

from lookaround.theory.analysis import analyze
from lookaround.theory.estimates import estimate_context
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

SOURCES = ("topic", "hmm", "markov")
SEEDS, DRAWS, K = 40, 20_000, 2


@pytest.fixture(scope="module")
def coverage() -> dict:
    """``{(source, key): (covered, printed)}`` of the 95% intervals over ``SEEDS`` seeds."""
    counts: dict = {}
    for name in SOURCES:
        source = preset_source(name)
        objective = parse_objective("mlm:2", source.length)
        exact = analyze(source, objective, K, level="context").context
        truth = {f"s_{i + 1}": float(exact.spectrum[i]) for i in range(K + 1)}
        truth.update(phi=exact.disagreement, probe_error=exact.probe_error, bound=exact.bound)
        for seed in range(SEEDS):
            est = estimate_context(source, objective, K, DRAWS, seed=seed, bootstrap=200)
            for key, value in truth.items():
                covered, printed = counts.get((name, key), (0, 0))
                interval = dict(est.values.named())[key]
                if interval.reliable:
                    printed += 1
                    covered += interval.low - 1e-12 <= value <= interval.high + 1e-12
                counts[name, key] = (covered, printed)
    return counts


# Measured on 2026-11-25 (N = 20,000, B = 200, 40 seeds): these intervals meet 85%
# (s_2: 36/40, 35/36, 37/40; markov s_3: 21/23; phi 40/40, 35/40; bound 40/40, 36/40, 18/20).
MEETS = [("topic", "s_2"), ("hmm", "s_2"), ("markov", "s_2"), ("markov", "s_3"),
         ("topic", "phi"), ("hmm", "phi"),
         ("topic", "bound"), ("hmm", "bound"), ("markov", "bound")]  # fmt: skip
# ...and this one does not (markov phi 33/40): recorded as a strict expected failure, so a
# fix shows up as an unexpected pass, never silently.
SHORT = [("markov", "phi")]


@pytest.mark.parametrize("name, key", MEETS)
def test_printed_intervals_cover_at_the_nominal_rate(coverage, name, key):
    covered, printed = coverage[name, key]
    assert printed >= 20 and covered >= 0.85 * printed, (covered, printed)


@pytest.mark.parametrize("name, key", SHORT)
@pytest.mark.xfail(strict=True, reason="basic bootstrap undercovers here (see the closing note)")
def test_intervals_known_to_undercover(coverage, name, key):
    covered, printed = coverage[name, key]
    assert covered >= 0.85 * printed


def test_the_probe_error_never_gets_an_interval(coverage):
    # its argmax readout is discontinuous in Ahat: basic intervals covered 25-31 of 40
    assert all(coverage[name, "probe_error"][1] == 0 for name in SOURCES)


def test_the_t2_bound_was_the_reported_failure_and_now_covers():
    # the reliability report: markov, mlm:2, k=2, N=20,000: [1.163, 1.190] excluded 1.112
    source, objective = preset_source("markov"), parse_objective("mlm:2", 5)
    exact = analyze(source, objective, 2, level="context").context.bound
    for seed in range(4):
        estimate = estimate_context(source, objective, 2, 20_000, seed=seed)
        interval = estimate.values.bound
        # either a covering interval, or none at all with the estimate named unreliable
        if interval.reliable:
            assert interval.covers(exact)
        else:
            assert "bound" in estimate.to_dict()["unreliable"]


def test_widths_shrink_like_one_over_sqrt_n():
    source = preset_source("topic")
    objective = parse_objective("ar", source.length)
    widths = {}
    for n in (5000, 20000):
        runs = [estimate_context(source, objective, 1, n, seed=s, bootstrap=100) for s in range(8)]
        widths[n] = np.mean([r.values.phi.width for r in runs])
    assert 1.6 < widths[5000] / widths[20000] < 2.5  # 4x the draws, half the width


def test_same_seed_same_estimate():
    source, objective = preset_source("markov"), parse_objective("mlm:2", 5)
    a = estimate_context(source, objective, 2, 3000, seed=5, bootstrap=20)
    b = estimate_context(source, objective, 2, 3000, seed=5, bootstrap=20)
    assert a.to_dict() == b.to_dict()


def test_sparse_draws_carry_a_warning_and_print_no_confident_interval():
    source = preset_source("markov")
    objective = parse_objective("ar", 5)
    sparse = estimate_context(source, objective, 1, 300, bootstrap=10).to_dict()
    dense = estimate_context(source, objective, 1, 50_000, bootstrap=10).to_dict()
    assert "warning" in sparse and sparse["singleton_fraction"] > 0.05
    assert "warning" not in dense
    assert "probe_error" in sparse["unreliable"] and sparse["probe_error_ci"] is None
