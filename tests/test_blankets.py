"""The factored context passes (theory/blankets.py, theory/hidden.py) against the row path,
number by number."""

from __future__ import annotations

import numpy as np
import pytest
from strategies import OBJECTIVES, min_length, random_spec

import lookaround.theory.blankets as blankets
from lookaround.theory.analysis import analyze
from lookaround.theory.blankets import BLANKET_CONTEXTS, blanket_chunks, blankets_pay
from lookaround.theory.cooccurrence import build_cooccurrence
from lookaround.theory.hidden import hidden_pays
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import source_from_dict

TOL = 1e-12


PATHS = {"blankets": (True, False), "hidden": (False, True), "rows": (False, False)}


def _both(monkeypatch, source, spec, k, path="blankets", **options):
    """The context level by a factored path and by the row path, each forced."""
    found = []
    for name in (path, "rows"):
        blanket, hidden = PATHS[name]
        with monkeypatch.context() as patch:
            patch.setattr(blankets, "blankets_pay", lambda *_, pays=blanket: pays)
            patch.setattr(blankets, "hidden_pays", lambda *_, pays=hidden: pays)
            found.append(analyze(source, spec, k, level="context", **options).level("context"))
    return [level.to_dict() for level in found]


def _assert_same(fast: dict, slow: dict) -> None:
    assert fast.keys() == slow.keys()
    for key, expected in slow.items():
        got = fast[key]
        if isinstance(expected, float) and np.isnan(expected):
            assert np.isnan(got), key
        elif isinstance(expected, (bool, int, str)):
            assert got == expected, key
        else:
            np.testing.assert_allclose(got, expected, rtol=0, atol=TOL, err_msg=key)


@pytest.mark.parametrize("family", ["markov", "graph_walk"])
@pytest.mark.parametrize("spec", OBJECTIVES)
def test_every_objective_equals_the_row_path(monkeypatch, family, spec):
    for seed, (r, vocab, sparsity) in enumerate([(2, 3, 0.0), (3, 2, 0.3), (1, 3, 0.6)]):
        length = max(5, min_length(spec))
        source = source_from_dict(random_spec(family, r, vocab, vocab, length, seed, sparsity))
        _assert_same(*_both(monkeypatch, source, spec, min(2, vocab)))


@pytest.mark.parametrize("spec", OBJECTIVES)
def test_the_hidden_state_path_equals_the_row_path(monkeypatch, spec):
    for seed, (r, vocab, states, sparsity) in enumerate([(2, 4, 2, 0.0), (3, 3, 2, 0.3),
                                                         (1, 3, 3, 0.6)]):  # fmt: skip
        length = max(5, min_length(spec))
        source = source_from_dict(random_spec("hmm", r, vocab, states, length, seed, sparsity))
        _assert_same(*_both(monkeypatch, source, spec, min(2, vocab), "hidden"))


@pytest.mark.parametrize("path", ["blankets", "hidden"])
@pytest.mark.parametrize("spec", ["ar", "mlm:2", "vmlm"])
def test_chunks_of_a_few_floats_change_nothing(monkeypatch, path, spec):
    """Every walk is split and every chunk holds a few contexts: the same numbers."""
    family = "markov" if path == "blankets" else "hmm"
    source = source_from_dict(random_spec(family, 2, 3, 2, 6, seed=3, sparsity=0.3))
    _assert_same(*_both(monkeypatch, source, spec, 2, path, chunk=40))


def test_the_factored_rows_are_the_cooccurrence():
    """Row by row, ``u(c) M_b`` and ``P(z, c)`` are ``A`` and its class joint."""
    source = source_from_dict(random_spec("markov", 2, 3, 3, 5, seed=4, sparsity=0.3))
    objective = parse_objective("mlm:2", 5)
    dense = [c.dense() for c in blanket_chunks(source, objective, chunk=10**6)]
    rows = np.concatenate([c.rows for c in dense])
    joint = np.concatenate([c.class_joint for c in dense])
    co = build_cooccurrence(source, objective)
    got = np.hstack([rows, joint]).round(15)
    expected = np.hstack([co.matrix.toarray(), co.class_joint]).round(15)
    got, expected = got[np.lexsort(got.T)], expected[np.lexsort(expected.T)]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)


def test_the_path_is_taken_where_the_token_is_the_state_and_patterns_have_many_contexts():
    markov = source_from_dict(random_spec("markov", 2, 2, 2, 13, seed=1, sparsity=0.0))
    hmm = source_from_dict(random_spec("hmm", 2, 2, 2, 13, seed=1, sparsity=0.0))
    few, many = parse_objective("mlm:2", 13), parse_objective("vmlm", 13)
    assert 2**11 >= BLANKET_CONTEXTS  # mlm:2 at T = 13: every pattern sees 11 tokens
    assert blankets_pay(markov, few) and not blankets_pay(markov, many)
    assert not blankets_pay(hmm, few)


def test_the_hidden_path_is_taken_where_r_h_is_at_most_half_v():
    narrow = source_from_dict(random_spec("hmm", 2, 8, 2, 7, seed=1, sparsity=0.0))  # 4, 8
    wide = source_from_dict(random_spec("hmm", 2, 7, 2, 7, seed=1, sparsity=0.0))  # 4, 7
    objective = parse_objective("mlm:2", 7)
    assert hidden_pays(narrow, objective, BLANKET_CONTEXTS)
    assert not hidden_pays(wide, objective, BLANKET_CONTEXTS)
    assert not hidden_pays(narrow, objective, 10**6)  # 8^5 contexts a pattern
