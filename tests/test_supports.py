"""The support counter against a plain count of the rows' supports, on both sides of its
16-target switch from bincount keys to packed words, rows laid out either way, and a source
of more than 64 tokens analyzed end to end."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from strategies import random_spec

from lookaround.theory.analysis import analyze
from lookaround.theory.blankets import blanket_chunks
from lookaround.theory.graphs import SupportCounter
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import source_from_dict
from lookaround.theory.spectral import row_chunks


@pytest.mark.parametrize("width", [1, 2, 10, 16, 17, 70])
@pytest.mark.parametrize("order", ["C", "F"])
def test_support_counts_match_a_count_of_the_rows(width, order):
    rng = np.random.default_rng(width)
    rows = rng.random((500, width)) * (rng.random((500, width)) < 0.4)
    rows[:, 0] += 0.1  # every row has mass
    rows = np.asarray(rows, order=order)
    class_joint = np.stack([rows.sum(axis=1) * 0.3, rows.sum(axis=1) * 0.7], axis=1)
    counter = SupportCounter()
    for chunk in row_chunks(
        [(rows[:200], class_joint[:200]), (rows[200:], class_joint[200:])], 150
    ):
        counter.add(chunk)
    masks, sizes = counter.masks(width)
    found = Counter({tuple(m.tolist()): int(n) for m, n in zip(masks, sizes)})
    assert found == Counter(tuple(r.tolist()) for r in rows > 0)


def test_a_source_of_more_than_64_tokens_is_analyzed():
    # supports past 64 targets are packed into several words; a word with its top bit set
    # once overflowed when the supports were unpacked, and the analysis ended in a traceback
    source = source_from_dict(random_spec("markov", 2, 70, 1, 3, seed=70, sparsity=0.0))
    level = analyze(source, "mlm:1", 2, level="context").level("context")
    assert level.connectivity.components == 1
    assert level.connectivity.support_fraction == 1.0  # every row has every target


@pytest.mark.parametrize("sparsity", [0.0, 0.5])
def test_a_factored_chunk_counts_the_supports_of_its_rows(sparsity):
    # positive coefficients (sparsity 0) take the one-support-per-blanket count, zeros the
    # keyed one; both must count what the chunk's rows written out have
    source = source_from_dict(random_spec("markov", 2, 4, 1, 6, seed=5, sparsity=sparsity))
    chunks = list(blanket_chunks(source, parse_objective("mlm:2", 6), chunk=300))
    assert any(c.coefficients.min() > 0 for c in chunks) == (sparsity == 0.0)
    fast, dense = SupportCounter(), SupportCounter()
    for chunk in chunks:
        fast.add(chunk)
        dense.add(chunk.dense())
    assert fast.counts == dense.counts
