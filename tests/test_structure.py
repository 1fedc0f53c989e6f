"""The internal structure that keeps packages from breaking each other at run time."""

from __future__ import annotations

import dataclasses
import importlib
from itertools import combinations

import numpy as np
import pytest
from packages import module_names

from lookaround.base import seeds
from lookaround.simulations.data import draw_patterns
from lookaround.simulations.models import LOSSES, MODELS, Model
from lookaround.simulations.runs import FITTERS
from lookaround.theory.analysis import analyze
from lookaround.theory.numerics import log_softmax, normalize, softmax
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source


def _modules():
    # the command line's modules are its handlers, not an API: they declare no exports
    return [name for name in module_names() if not name.startswith("lookaround.cli")]


@pytest.mark.parametrize("name", _modules())
def test_every_public_module_declares_what_it_exports(name):
    if name.startswith("lookaround.figures"):
        pytest.importorskip("matplotlib")
    if name == "lookaround.theory.symbolic":
        pytest.importorskip("sympy")
    module = importlib.import_module(name)
    assert isinstance(module.__all__, list), name
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, (name, missing)


@pytest.mark.parametrize("seed", [0, 1, 7, 2**40])
def test_random_streams_of_one_seed_are_distinct(seed):
    s = seeds.streams(seed)
    entropies = {
        f.name: getattr(s, f.name).entropy
        for f in dataclasses.fields(s)
        if isinstance(getattr(s, f.name), np.random.SeedSequence)
    }
    for a, b in combinations(sorted(entropies), 2):
        if {a, b} <= seeds.LEGACY_SHARED:
            continue
        assert entropies[a] != entropies[b], (a, b)
    assert len({s.heldout, s.bundle_heldout, seed}) == 3


def test_streams_keep_the_bits_of_earlier_releases():
    assert np.random.default_rng(seeds.streams(4).patterns).random() == (
        np.random.default_rng([4, 1]).random()
    )
    assert seeds.streams(4).heldout == 4 + 1_000_003


def test_both_models_implement_the_one_interface():
    assert set(FITTERS) == set(MODELS)
    source = preset_source("topic")
    objective = parse_objective("mlm:1", source.length)
    draws = draw_patterns(source, objective, 500, seed=0)
    for name in MODELS:
        for loss in LOSSES:
            model = FITTERS[name](draws, source.vocab, 2, loss=loss, steps=5, lr=0.01, seed=0)
            assert isinstance(model, Model), (name, loss)
            p = model.conditional(objective.patterns[0], draws.tokens[:4])
            np.testing.assert_allclose(p.sum(axis=1), 1.0)
            assert model.readout.g.shape == (source.vocab, 2)


def test_level_analysis_is_built_once_and_read_by_attribute():
    res = analyze(preset_source("topic"), parse_objective("mlm:2", 4), k=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.level("context").optimum = 0.0  # type: ignore[misc]
    context, sample = res.level("context"), res.level("sample")
    assert context.optimum < 0 and not hasattr(context, "averaged_probe_error")
    assert not hasattr(sample, "optimum") and sample.effective_degree.rows > 0
    record = sample.to_dict()
    assert record["effective_degree"] == sample.effective_degree.value
    assert record["support_fraction"] == res.level("sample").connectivity.support_fraction


def test_normalize_is_the_textbook_formula():
    a = np.array([[0.2, 0.1, 0.0], [0.0, 0.0, 0.0], [0.3, 0.0, 0.4]])
    abar, left, right = normalize(a)
    p_c, p_t = a.sum(axis=1), a.sum(axis=0)
    expected = np.zeros_like(a)
    for i, j in zip(*np.nonzero(a)):
        expected[i, j] = a[i, j] / np.sqrt(p_c[i] * p_t[j])
    np.testing.assert_allclose(abar, expected, rtol=1e-15)
    assert left[1] == 0.0


def test_softmax_and_log_softmax_agree_without_overflow():
    logits = np.array([[1000.0, 1001.0, -5.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(np.exp(log_softmax(logits)), softmax(logits), rtol=1e-14)
    assert np.all(np.isfinite(log_softmax(logits)))
