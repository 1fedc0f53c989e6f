"""A spectral-loss network's fit against T1 on sampled draws: its intervals against the exact
population fit of the same (fixed) features."""

from __future__ import annotations

import numpy as np
import pytest

from lookaround.simulations.pretrain import Outputs, evaluate, exact_theory, population
from lookaround.simulations.sampled import draw_evaluation, sampled_spectral_fit
from lookaround.theory.feature_maps import feature_map_estimate
from lookaround.theory.objectives import parse_objective
from lookaround.theory.pattern_laws import pattern_arrays
from lookaround.theory.presets import preset_source

K = 2


def _features(vocab: int, length: int):
    """A fixed ``f(c)`` of each context (``K`` numbers) and ``g`` (V, K): a network's, frozen."""
    rng = np.random.default_rng(7)
    a, g = rng.normal(size=(length * (vocab + 1) + length, K)), rng.normal(size=(vocab, K)) / 3

    def f(tokens, visible, target):
        shown = np.where(visible, tokens[:, None, :], vocab)
        onehot = (shown[..., None] == np.arange(vocab + 1)).reshape(*visible.shape[:2], -1)
        return np.tanh(np.concatenate([onehot, target[..., None] == np.arange(length)], -1) @ a)

    return f, g


@pytest.mark.parametrize("objective", ["ar", "mlm:2"])
def test_sampled_spectral_fit_intervals_cover_the_exact_fit(objective):
    source = preset_source("markov")
    f, g = _features(source.vocab, source.length)
    pop = population(source)
    theory = exact_theory(source, parse_objective(objective, source.length), pop)
    visible, target = pattern_arrays(theory.objective.patterns, source.length)
    n_pop, count = pop.tokens.shape[0], target.size
    exact_f = f(pop.tokens, np.broadcast_to(visible, (n_pop, count, source.length)),
                np.broadcast_to(target, (n_pop, count)))  # fmt: skip
    exact = evaluate(Outputs(theory.conditionals, theory.prefix_conditionals, spectral_f=exact_f,
                             spectral_g=g), theory, pop, source, ks=(K,)).spectral  # fmt: skip
    assert exact is not None
    covered = dict.fromkeys(("loss", "optimum", "gap"), 0)
    angles = []
    seeds = 100
    for seed in range(seeds):
        draws = draw_evaluation(source, objective, n=1000, seed=seed)
        estimate = feature_map_estimate(source, objective, n=2000, seed=1000 + seed)
        outputs = Outputs(draws.conditionals, draws.prefix_conditionals,
                          spectral_f=f(draws.tokens, draws.visible, draws.target), spectral_g=g)  # fmt: skip
        fit = sampled_spectral_fit(outputs, draws, estimate)
        assert fit is not None and fit.k == K
        for name in covered:
            low, high = getattr(fit, f"{name}_ci")
            covered[name] += low <= getattr(exact, name) <= high
        angles.append(fit.max_angle_deg)
    rates = {name: count / seeds for name, count in covered.items()}
    assert min(rates.values()) >= 0.88, rates
    assert abs(np.median(angles) - exact.max_angle_deg) < 0.5, (np.median(angles), exact)


def test_t1_features_sit_at_a_small_angle_on_the_draws_as_in_the_population():
    source = preset_source("markov")
    pop = population(source)
    theory = exact_theory(source, parse_objective("mlm:2", source.length), pop)
    g = np.random.default_rng(0).normal(size=(source.vocab, K))
    exact = evaluate(Outputs(theory.conditionals, theory.prefix_conditionals,
                             spectral_f=theory.conditionals @ theory.feature_map[:, :K],
                             spectral_g=g), theory, pop, source, ks=(K,)).spectral  # fmt: skip
    draws = draw_evaluation(source, "mlm:2", n=4000, seed=0)
    f = draws.conditionals @ theory.feature_map[:, :K]  # T1's own features: angle 0
    fit = sampled_spectral_fit(Outputs(draws.conditionals, draws.prefix_conditionals,
                                       spectral_f=f, spectral_g=g),
                               draws, feature_map_estimate(source, "mlm:2", n=20000))  # fmt: skip
    assert exact is not None and exact.max_angle_deg < 1e-4
    assert fit is not None and fit.max_angle_deg < 3.0, fit


def test_a_cross_entropy_network_has_no_spectral_fit():
    source = preset_source("markov")
    draws = draw_evaluation(source, "ar", n=100, seed=0)
    outputs = Outputs(draws.conditionals, draws.prefix_conditionals)
    assert sampled_spectral_fit(outputs, draws, feature_map_estimate(source, "ar", n=500)) is None
