"""The embedding against dense brute force: SVDs of ``Abar`` and of the sample graph."""

from __future__ import annotations

import numpy as np
import pytest

import lookaround
from lookaround.base.errors import InputError
from lookaround.theory.analysis import analyze
from lookaround.theory.cooccurrence import build_cooccurrence, sample_stream
from lookaround.theory.embedding import spectral_embedding
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

TOL = 1e-9
CASES = [("topic", "mlm:2"), ("markov", "mlm:2"), ("hmm", "ar"), ("markov", "vmlm")]


def _same_up_to_sign(ours: np.ndarray, truth: np.ndarray, values: np.ndarray) -> None:
    """Column ``j`` equals the truth's up to sign where ``s_j`` is simple (else the basis is
    the solver's choice and only the span is compared)."""
    for j in range(ours.shape[1]):
        gaps = np.abs(values - values[j])
        gaps[j] = np.inf
        if gaps.min() > 1e-6:
            sign = np.sign(ours[:, j] @ truth[:, j])
            np.testing.assert_allclose(ours[:, j], sign * truth[:, j], atol=TOL, rtol=0)


@pytest.mark.parametrize("name, spec", CASES)
def test_context_features_are_the_scaled_left_singular_vectors(name, spec):
    source = preset_source(name)
    objective = parse_objective(spec, source.length)
    emb = spectral_embedding(source, objective, 3)
    dense = build_cooccurrence(source, objective).matrix.toarray()
    rows, cols = dense.sum(axis=1), dense.sum(axis=0)
    u, s, _ = np.linalg.svd(dense / np.sqrt(rows)[:, None] / np.sqrt(cols)[None, :])
    kept = emb.singular_values.size
    np.testing.assert_allclose(emb.singular_values, s[:kept], atol=TOL, rtol=0)
    _same_up_to_sign(emb.context_features, u[:, :kept] / np.sqrt(rows)[:, None], s[:kept])
    # f*(c) = P(.|c) Phi: the target features read the contexts' conditionals
    np.testing.assert_allclose(
        emb.context_features, (dense / rows[:, None]) @ emb.target_features, atol=TOL
    )
    assert np.allclose(emb.context_features[:, 0] ** 2, 1.0, atol=TOL)
    np.testing.assert_allclose(emb.context_mass, rows, atol=1e-15)


@pytest.mark.parametrize("name, spec", CASES)
def test_sequence_features_are_the_sample_graphs_eigenvectors(name, spec):
    source = preset_source(name)
    objective = parse_objective(spec, source.length)
    emb = spectral_embedding(source, objective, 3)
    _, q, joint = (np.concatenate(part) for part in zip(*sample_stream(source, objective)))
    live = q.sum(axis=1) > 0
    mass = q[live].sum(axis=1)
    graph = (q[live] / q[live].sum(axis=0)[None, :]) @ q[live].T  # P(x) K(x, x'), dense
    values, vectors = np.linalg.eigh(graph / np.sqrt(mass)[:, None] / np.sqrt(mass)[None, :])
    order = np.argsort(values)[::-1]
    kept = emb.sample_values.size
    top = values[order][:kept]
    np.testing.assert_allclose(emb.sample_values**2, top, atol=TOL, rtol=0)
    truth = vectors[:, order][:, :kept] / np.sqrt(mass)[:, None]
    _same_up_to_sign(emb.sequence_features[live], truth, top)
    assert np.all(emb.sequence_features[~live] == 0)
    np.testing.assert_array_equal(emb.sequence_classes, np.argmax(joint, axis=1))
    exact = analyze(source, objective, 3).level("sample")
    np.testing.assert_allclose(emb.sample_values**2, exact.eigenvalues[:kept], atol=TOL)


def test_averaged_features_are_the_contexts_features_averaged_over_each_sequence():
    """h(x) = sum_c P(c|x) f*(c), brute force over the contexts each sequence shows."""
    source = preset_source("topic")
    objective = parse_objective("mlm:1", source.length)
    emb = spectral_embedding(source, objective, 2)
    co = build_cooccurrence(source, objective)
    feature = {co.context_label(c): emb.context_features[c] for c in range(len(emb.context_labels))}
    weights = dict(zip([p.target for p in objective.patterns], objective.weights))
    for row in range(0, len(emb.sequences), 37):
        x = emb.sequences[row]
        total = np.zeros(emb.averaged_features.shape[1])
        for pattern in objective.patterns:
            shown = " ".join(f"x{p}={int(x[p])}" for p in pattern.visible) or "_"
            total += weights[pattern.target] * feature[f"{shown} -> x{pattern.target}"]
        np.testing.assert_allclose(emb.averaged_features[row], total / sum(weights.values()),
                                   atol=TOL)  # fmt: skip


def test_the_embedding_is_sized_before_it_starts():
    with pytest.raises(InputError, match="exceed the exact limit"):
        spectral_embedding("ginc", "ar", 2)
    with pytest.raises(InputError, match="k"):
        spectral_embedding("markov", "ar", 0)


def test_the_embedding_is_a_top_level_name():
    emb = lookaround.spectral_embedding("markov", "ar", 2)
    assert emb.context_features.shape == (len(emb.context_labels), 2)
    assert "singular_values" in emb.summary()
