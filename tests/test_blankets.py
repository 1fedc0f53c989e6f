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
from lookaround.theory.factored import FactoredChunk
from lookaround.theory.families import FAMILIES
from lookaround.theory.hidden import hidden_chunks, hidden_pays
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import resolve_source
from lookaround.theory.sources import source_from_dict
from lookaround.theory.spectral import (
    QRTargetSideBuilder,
    TargetSideBuilder,
    as_chunks,
    run_pass,
)

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
    # one state a class too: iid and positional sources are HMMs with H = 1
    for seed, (family, r, vocab, states, sparsity) in enumerate([
        ("hmm", 2, 4, 2, 0.0), ("hmm", 3, 3, 2, 0.3), ("hmm", 1, 3, 3, 0.6),
        ("hmm", 2, 3, 1, 0.3), ("positional", 2, 4, 1, 0.3), ("iid", 2, 3, 1, 0.0),
    ]):  # fmt: skip
        length = max(5, min_length(spec))
        source = source_from_dict(random_spec(family, r, vocab, states, length, seed, sparsity))
        _assert_same(*_both(monkeypatch, source, spec, min(2, vocab), "hidden"))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_on_the_path_it_is_given_equals_the_row_path(monkeypatch, family):
    """The default choice of path, at a size where the factored paths pay, for every family
    a user can name: the forced-path tests above do not exercise the choice itself."""
    vocab = [f"V={p.high}" for p in FAMILIES[family].parameters if p.name == "V"]
    source = resolve_source(f"{family}({','.join([*vocab, 'T=7'])})")
    for spec in ("ar", "mlm:2", "vmlm"):
        objective = parse_objective(spec, 7)
        found = analyze(source, objective, 2, level="context").level("context").to_dict()
        with monkeypatch.context() as patch:
            patch.setattr(blankets, "factored_path", lambda *_: None)
            rows = analyze(source, objective, 2, level="context").level("context").to_dict()
        _assert_same(found, rows)


@pytest.mark.parametrize("family", ["positional", "iid"])
def test_a_one_state_source_takes_the_hidden_path_to_the_row_paths_numbers(monkeypatch, family):
    """The path is a name: a one-state HMM has one coefficient a class, as a chain's blanket
    path has, and used to be sent down the blanket path (a ValueError in the Gram)."""
    source = source_from_dict(random_spec(family, 2, 4, 1, 8, 5, 0.0))
    objective = parse_objective("ar", 8)
    assert blankets.factored_path(source, objective) == "hidden"
    chunk = next(iter(blankets.context_chunks(source, objective, chunk=1 << 17)))
    assert isinstance(chunk, FactoredChunk)
    assert chunk.coefficients.shape[0] == chunk.basis.shape[0] == 1
    found = analyze(source, objective, 2, level="context").level("context").to_dict()
    with monkeypatch.context() as patch:
        patch.setattr(blankets, "hidden_pays", lambda *_: False)
        _assert_same(
            found, analyze(source, objective, 2, level="context").level("context").to_dict()
        )


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


@pytest.mark.parametrize(("family", "vocab", "length"), [("hmm", 10, 3), ("markov", 3, 6)])
def test_the_rank_revealing_pass_reads_each_blanket_as_r_rows(family, vocab, length):
    """``R_b M_b`` from the QR of a blanket's coefficients has the QR factor (so the singular
    values, zero ones included) of the rows written out. The HMM's rank is at most 8 (two
    patterns of ``r H = 4`` rows) for ``V = 10`` targets: its Gram is refused and this pass
    is the one its analysis takes."""
    source = source_from_dict(random_spec(family, 2, vocab, 2, length, seed=2, sparsity=0.0))
    objective = parse_objective("ar", length)
    walk = hidden_chunks if family == "hmm" else blanket_chunks
    chunks = list(as_chunks(walk(source, objective, chunk=2000)))
    assert (_gram_side(chunks) is None) == (family == "hmm")
    sides = []
    for parts in (chunks, [c.dense() for c in chunks]):
        builder = QRTargetSideBuilder()
        run_pass(parts, [builder])
        sides.append(builder.result())
    factored, dense = sides
    assert sum(c.scaled_rows(c.mass).shape[0] for c in chunks) < factored.n_rows
    np.testing.assert_allclose(
        factored.singular_values(vocab), dense.singular_values(vocab), rtol=0, atol=TOL
    )
    np.testing.assert_allclose(factored.label_target, dense.label_target, rtol=0, atol=TOL)
    assert factored.n_rows == dense.n_rows


def _gram_side(chunks: list) -> object:
    """The Gram's target side, None where it is too ill-conditioned."""
    builder = TargetSideBuilder()
    run_pass(chunks, [builder])
    return builder.result()


def test_gathered_chunks_count_their_bases():
    """With a context a blanket (mlm:2 at T = 4) the bases are most of a chunk's floats."""
    source = source_from_dict(random_spec("markov", 2, 12, 1, 4, seed=1, sparsity=0.0))
    chunks = list(blanket_chunks(source, parse_objective("mlm:2", 4), chunk=20_000))
    assert len(chunks) > 1 and max(c.coefficients.size + c.basis.size for c in chunks) <= 20_000
    assert sum(c.mass.size for c in chunks) == 12 * 12**2  # 12 patterns of 144 contexts


@pytest.mark.parametrize("chunk", [20, 40, 60, 100, 170, 400, 10**6])
def test_a_set_walked_alone_is_cut_by_blankets(chunk):
    """A pattern walked alone (x_2 given x_0, x_1, x_3, x_4, x_5: 3 x 3 blankets of 27
    contexts, 54 coefficients at r = 2) gives its rows once, whatever the cut; each blanket's
    basis comes with every one of its contexts unless those pass a chunk, and no chunk
    passes one (beyond a single context a blanket)."""
    source = source_from_dict(random_spec("markov", 2, 3, 3, 6, seed=2, sparsity=0.2))
    moves = blankets.ChainMoves(source)
    parts = list(blankets._pattern_chunks(moves, (0, 1, 3, 4, 5), 2, 0.5, chunk=chunk))
    whole = next(blankets._pattern_chunks(moves, (0, 1, 3, 4, 5), 2, 0.5, chunk=10**6))
    assert whole.coefficients.shape == (9, 2, 27)

    def rows(chunks):
        found = np.concatenate([np.hstack([c.dense().rows, c.dense().class_joint]) for c in chunks])
        return found[np.lexsort(found.round(15).T)]

    np.testing.assert_allclose(rows(parts), rows([whole]), rtol=0, atol=1e-15)
    assert all(c.coefficients.size <= max(chunk, 2) for c in parts)
    incidences = sum(c.basis.shape[0] for c in parts)
    assert incidences == 9 if chunk >= 54 else incidences > 9
