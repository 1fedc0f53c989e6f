"""Sources: validation, JSON round trips, forward marginals and sampling."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from brute import sequence_joint as brute_joint
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import random_spec, sources

from lookaround.base.errors import InputError
from lookaround.theory import sampling
from lookaround.theory.conditionals import prefix_laws
from lookaround.theory.marginals import joint_visible, sequence_joint
from lookaround.theory.presets import PRESETS, preset_source
from lookaround.theory.sampling import sample_sequences
from lookaround.theory.sources import load_source, save_source, source_from_dict


@settings(max_examples=80, deadline=None)
@given(sources())
def test_forward_marginals_equal_path_enumeration(source):
    brute = brute_joint(source)
    T = source.length
    for size in range(1, T + 1):
        for visible in itertools.combinations(range(T), size):
            ours = joint_visible(source, visible)
            expected = np.zeros_like(ours)
            for x, pz in brute.items():
                expected[(slice(None),) + tuple(x[t] for t in visible)] += pz
            np.testing.assert_allclose(ours, expected, atol=1e-12)


@pytest.mark.parametrize("family", ["iid", "positional", "markov", "graph_walk", "hmm"])
def test_json_round_trip(tmp_path, family):
    source = source_from_dict(random_spec(family, r=2, V=3, H=2, T=4, seed=5, sparsity=0.3))
    path = tmp_path / "s.json"
    save_source(source, path)
    again = load_source(path)
    for name in ("prior", "init", "trans", "emit"):
        np.testing.assert_array_equal(getattr(again, name), getattr(source, name))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_seeded_and_valid(name):
    a, b, c = preset_source(name), preset_source(name), preset_source(f"{name}:1")
    np.testing.assert_array_equal(a.emit, b.emit)
    np.testing.assert_array_equal(a.trans, b.trans)
    if a.vocab**a.length > 10**6:  # past enumeration: every prefix law of drawn sequences
        for source in (a, c):
            _, tokens = sample_sequences(source, 50, seed=0)
            assert np.allclose(prefix_laws(source, tokens).sum(axis=-1), 1.0, atol=1e-12)
        return
    assert abs(sequence_joint(a).sum() - 1) < 1e-12 and abs(sequence_joint(c).sum() - 1) < 1e-12


def test_sampling_matches_exact_probabilities():
    source = preset_source("hmm")
    n = 200_000
    z, x = sample_sequences(source, n, seed=11)
    z2, x2 = sample_sequences(source, n, seed=11)
    assert np.array_equal(x, x2) and np.array_equal(z, z2)
    exact = joint_visible(source, [0, 4])  # (r, V, V)
    counts = np.zeros_like(exact)
    np.add.at(counts, (z, x[:, 0], x[:, 4]), 1)
    freq = counts / n
    # 5 standard errors of a binomial proportion for each cell: a failure is a real bias
    se = np.sqrt(exact * (1 - exact) / n)
    assert np.all(np.abs(freq - exact) <= 5 * se + 1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 70), st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_categorical_draws_are_searchsorted(laws, width, n, seed):
    # the bisection must pick what a per-law searchsorted picks for the same uniforms, so
    # every seeded draw keeps its bits: zero-probability categories and a last cumulative
    # entry rounded down to 1 are the cases a bisection could get wrong
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(width, 0.3), size=laws)
    probs[:, rng.random(width) < 0.3] = 0.0
    probs[probs.sum(axis=1) == 0, -1] = 1.0
    probs /= probs.sum(axis=1, keepdims=True)
    probs[:, 0] += 1e-15  # a row summing just above 1 before its last entry is set to 1
    cum, rows = sampling._cumulative(probs), rng.integers(0, laws, n)
    drawn = sampling._categorical(np.random.default_rng(seed), cum, rows)
    u = np.random.default_rng(seed).random(n)
    expected = [np.searchsorted(cum[row], value, side="right") for row, value in zip(rows, u)]
    assert drawn.tolist() == expected


GOOD = {"family": "iid", "prior": [0.5, 0.5], "emit": [[0.5, 0.5], [0.2, 0.8]], "length": 3}


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"prior": [0.5, 0.6]}, r"source.prior sums to 1.1, not 1 \(tolerance 1e-09\)"),
        ({"prior": [1.2, -0.2]}, r"source.prior\[1\] is -0.2, probabilities must be >= 0"),
        ({"emit": [[0.5, 0.5], [0.2]]}, r"source.emit\[1\] has shape \[1\], expected \[2\]"),
        ({"emit": [[0.5, 0.5], [0.2, 0.7]]}, r"source.emit\[1\] sums to 0.9"),
        ({"emit": [[0.5, 0.5]]}, r"source.emit has 1 entries on axis 0, expected r=2"),
        ({"family": "zipf"}, r"source.family: unknown family 'zipf'"),
        ({"length": 0}, r"source.length must be an integer in \[1, 4096\]"),
        ({"length": "3"}, r"source.length must be an integer"),
        ({"prior": "abc"}, r"source.prior must be a number or a list"),
        ({"emit": [[0.5, "x"], [0.2, 0.8]]}, r"source.emit\[0\]\[1\] must be a number"),
    ],
)
def test_malformed_sources_name_the_field(patch, message):
    with pytest.raises(InputError, match=message):
        source_from_dict({**GOOD, **patch})


def test_markov_and_hmm_shape_errors():
    base = {
        "family": "markov",
        "prior": [1.0],
        "init": [[0.5, 0.5]],
        "trans": [[[1.0, 0.0], [0.5, 0.5]]],
        "length": 3,
    }
    source_from_dict(base)
    with pytest.raises(InputError, match=r"source.trans has 3 entries on axis 1, expected V=2"):
        source_from_dict({**base, "trans": [[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0, 0, 1.0]]]})
    with pytest.raises(
        InputError, match=r"source.trans has 1 entries on axis 1, expected 2 time steps"
    ):
        source_from_dict({**base, "trans": [[[[1.0, 0.0], [0.5, 0.5]]]]})
    with pytest.raises(InputError, match="source.init is missing"):
        source_from_dict({k: v for k, v in base.items() if k != "init"})


def test_bad_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="is not valid JSON"):
        load_source(bad)
    with pytest.raises(InputError, match="No such file"):
        load_source(tmp_path / "missing.json")
    bad.write_text(json.dumps([1, 2]))
    with pytest.raises(InputError, match="source must be a JSON object"):
        load_source(bad)


@pytest.mark.parametrize("family", ["markov", "graph_walk"])
def test_state_chain_forward_equals_the_general_pass(family):
    from lookaround.theory.marginals import _hidden_joint, _state_chain_joint

    source = source_from_dict(random_spec(family, r=2, V=3, H=1, T=5, seed=4, sparsity=0.3))
    assert source.emits_state
    for size in range(1, 6):
        for visible in itertools.combinations(range(5), size):
            for n_fixed in range(size + 1):
                fixed = {visible[j]: (j + 1) % source.vocab for j in range(n_fixed)}
                np.testing.assert_allclose(
                    _state_chain_joint(source, list(visible), fixed),
                    _hidden_joint(source, list(visible), fixed),
                    atol=1e-15,
                )
