"""Every exact quantity of ``theory`` against the independent enumeration of ``tests/brute.py``."""

from __future__ import annotations

import numpy as np
import pytest
from brute import Brute, components, effective_degree, support_fraction, within_class_gap
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import OBJECTIVES, min_length, random_spec, sources

from lookaround.theory.analysis import analyze
from lookaround.theory.chains import chain_pays
from lookaround.theory.cooccurrence import build_cooccurrence
from lookaround.theory.graphs import augmentation_spectrum
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import SOURCE_FAMILIES, source_from_dict

TOL = 1e-9


def _separated(values: np.ndarray, k: int, zero: float) -> bool:
    """The top-k subspace is unique (else the probe depends on the eigensolver's basis).

    Either a clear gap after the k-th value, or the k-th value is a clean zero (then both
    sides drop it); values between rounding noise and 1e-6 are ambiguous and skipped.
    """
    return values[k - 1] - values[k] > 1e-6 or values[k - 1] < zero


def _compare(source, spec: str, k: int) -> None:
    objective = parse_objective(spec, source.length)
    brute = Brute(source, spec)
    res = analyze(source, objective, k)
    ctx, ref = res.level("context"), brute.context(k)
    n = min(ctx.singular_values.size, ref["singular_values"].size)
    np.testing.assert_allclose(ctx.singular_values[:n], ref["singular_values"][:n], atol=TOL)
    assert abs(ctx.phi - ref["phi"]) < TOL
    assert ctx.rows == len(brute.contexts)
    assert ctx.connectivity.components == components(ref["graph"])
    assert abs(ctx.connectivity.support_fraction - support_fraction(ref["graph"])) < TOL
    gap, ref_gap = ctx.connectivity.within_class_gap, within_class_gap(ref["graph"], ref["labels"])
    assert (np.isnan(gap) and np.isnan(ref_gap)) or abs(gap - ref_gap) < 1e-7
    if _separated(ref["singular_values"], k, 1e-10):
        assert abs(ctx.probe_error - ref["probe_error"]) < TOL
    smp, sref = res.level("sample"), brute.sample(k)
    n = min(smp.eigenvalues.size, sref["eigenvalues"].size)
    np.testing.assert_allclose(smp.eigenvalues[:n], sref["eigenvalues"][:n], atol=1e-8)
    assert abs(smp.alpha - sref["alpha"]) < TOL
    assert smp.connectivity.components == components(sref["graph"])
    assert abs(smp.connectivity.support_fraction - support_fraction(sref["graph"])) < TOL
    assert smp.effective_degree is not None and smp.augmentation_eigenvalues is not None
    assert abs(smp.effective_degree.value - effective_degree(sref["graph"])) < 1e-7
    if _separated(sref["eigenvalues"], k, 1e-20):
        assert abs(smp.probe_error - sref["probe_error"]) < TOL
    if _separated(ref["singular_values"], k, 1e-10):
        assert smp.averaged_probe_error is not None
        assert abs(smp.averaged_probe_error - sref["averaged_probe_error"]) < TOL
    aug = np.concatenate([brute.augmentation_eigenvalues(), np.zeros(k + 1)])
    np.testing.assert_allclose(smp.augmentation_eigenvalues, aug[: k + 1], atol=1e-8)


@pytest.mark.parametrize("family", SOURCE_FAMILIES)
@pytest.mark.parametrize("spec", OBJECTIVES)
def test_every_family_and_objective_matches_enumeration(family, spec):
    source = source_from_dict(
        random_spec(
            family,
            r=2,
            V=3 if family != "graph_walk" else 4,
            H=2,
            T=max(3, min_length(spec)),
            seed=7,
            sparsity=0.0,
        )
    )
    _compare(source, spec, k=2)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources(max_vocab=3, max_length=3), st.sampled_from(OBJECTIVES), st.integers(1, 4))
def test_random_sources_match_enumeration(source, spec, k):
    assume(source.vocab**source.length <= 27 and source.length >= min_length(spec))
    assume(k <= source.vocab)  # k is defined up to V, the largest rank Abar can have
    _compare(source, spec, k)


def test_cooccurrence_entries_match_enumeration():
    source = source_from_dict(random_spec("hmm", r=2, V=2, H=2, T=4, seed=3, sparsity=0.3))
    for spec in ("mlm:2", "plm", "dar:2"):
        co = build_cooccurrence(source, parse_objective(spec, 4))
        brute = Brute(source, spec)
        ours = {
            co.context_label(i): co.matrix[i].toarray().ravel()
            for i in range(co.matrix.get_shape()[0])
        }
        assert len(ours) == len(brute.contexts)
        for (S, i, xs), row in zip(brute.contexts, brute.A):
            label = " ".join(f"x{p}={v}" for p, v in zip(S, xs)) or "_"
            np.testing.assert_allclose(ours[f"{label} -> x{i}"], row, atol=TOL)


def test_augmentation_sparse_route_matches_dense():
    # Above 2000 samples the spectrum comes from Lanczos on the sample side; check it against
    # the dense route on the same incidence.
    from lookaround.theory.graphs import sample_context_incidence
    from lookaround.theory.numerics import inverse_sqrt_mass

    source = source_from_dict(random_spec("markov", r=2, V=3, H=1, T=7, seed=1, sparsity=0.0))
    objective = parse_objective("mlm:2", 7)
    fast = augmentation_spectrum(source, objective, 4)
    inc = sample_context_incidence(source, objective).toarray()
    norm = inc / np.sqrt(inc.sum(1))[:, None] * inverse_sqrt_mass(inc.sum(0))[None, :]
    dense = np.sort(np.linalg.eigvalsh(norm @ norm.T))[::-1][:4]
    np.testing.assert_allclose(fast, dense, atol=1e-8)


@pytest.mark.parametrize("spec", ["ar", "mlm:1", "dar:2"])
def test_chain_path_against_brute_force(spec):
    # V = 8: the analysis takes the chain path (theory/chains.py), as on the ladder's rungs
    source = source_from_dict(random_spec("markov", r=2, V=8, H=8, T=3, seed=5, sparsity=0.3))
    masks = parse_objective(spec, 3).by_target()
    assert all(chain_pays(source, sets) for _, sets in masks.values())
    _compare(source, spec, 2)
