"""T1 as an identity, and T2 / T2' never violated on random sources."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import OBJECTIVES, min_length, sources

from lookaround.theory.analysis import analyze
from lookaround.theory.bounds import (
    factorization_loss,
    optimal_factors,
    probe_bound,
    spectral_loss,
    spectral_optimum,
)
from lookaround.theory.cooccurrence import build_cooccurrence
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 5))
def test_t1_identity_on_random_f_g(seed, k):
    rng = np.random.default_rng(seed)
    co = build_cooccurrence(preset_source(f"hmm:{seed % 5}"), parse_objective("mlm:2", 5))
    a = co.matrix.toarray()
    f = rng.normal(size=(a.shape[0], k))
    g = rng.normal(size=(a.shape[1], k))
    lhs, rhs = spectral_loss(a, f, g), factorization_loss(a, f, g)
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 3))
def test_t1_optimum_is_reached_and_never_beaten(seed, k):
    rng = np.random.default_rng(seed)
    a = build_cooccurrence(
        preset_source(f"markov:{seed % 7}"), parse_objective("ar", 5)
    ).matrix.toarray()
    s = np.linalg.svd(a / np.sqrt(a.sum(1))[:, None] / np.sqrt(a.sum(0))[None, :], compute_uv=False)
    f, g = optimal_factors(a, k)
    optimum = spectral_optimum(s, k)
    assert abs(spectral_loss(a, f, g) - optimum) < 1e-9
    for _ in range(5):
        df = f + 0.1 * rng.normal(size=f.shape)
        assert spectral_loss(a, df, g) >= optimum - 1e-12


@settings(max_examples=300, deadline=None)
@given(sources(), st.sampled_from(OBJECTIVES), st.integers(1, 4))
def test_t2_and_t2prime_never_violated(source, spec, k):
    assume(source.length >= min_length(spec) and k <= source.vocab)
    res = analyze(source, parse_objective(spec, source.length), k)
    assert res.level("context").probe_error <= res.level("context").bound + 1e-12
    assert res.level("sample").probe_error <= res.level("sample").bound + 1e-12
    # phi is a probability and the spectrum starts at 1 (the trivial pair)
    assert 0 <= res.level("context").phi <= 1
    assert (
        abs(res.level("context").singular_values[0] - 1) < 1e-9
        and abs(res.level("sample").eigenvalues[0] - 1) < 1e-9
    )
    assert np.all(np.diff(res.level("context").singular_values) <= 1e-12)


def test_bound_is_infinite_when_graph_has_more_components_than_k():
    res = analyze(preset_source("disjoint"), parse_objective("ar", 4), k=1)
    assert res.level("context").connectivity.components == 2
    assert res.level("context").bound == float("inf")
    assert probe_bound(0.0, 1.0) == float("inf")


def test_chunked_blocks_give_the_same_numbers():
    source, objective = preset_source("hmm:2"), parse_objective("vmlm", 5)
    whole = analyze(source, objective, 2, level="context")
    chunked = analyze(source, objective, 2, level="context", chunk=40)
    np.testing.assert_allclose(
        chunked.level("context").singular_values, whole.level("context").singular_values, atol=1e-12
    )
    assert abs(chunked.level("context").probe_error - whole.level("context").probe_error) < 1e-12
    assert abs(chunked.level("context").phi - whole.level("context").phi) < 1e-12
