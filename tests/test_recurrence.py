"""The subset-stacked forward recurrence against enumeration, at chunk sizes that force it to
split its stacks (by prefixes and by context ranges), and the background producer."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from brute import Brute
from strategies import random_spec

from lookaround.base.background import in_background
from lookaround.theory.analysis import analyze
from lookaround.theory.cooccurrence import DEFAULT_CHUNK, iter_blocks
from lookaround.theory.marginals import joint_visible
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source
from lookaround.theory.recurrence import stacked_joints
from lookaround.theory.sources import source_from_dict

TOL = 1e-12
SPECS = ("ar", "mlm:2", "vmlm", "plm", "span:2", "prefixlm", "dar:2")


def _rows_by_context(source, spec: str, chunk: int) -> tuple[dict, list]:
    objective = parse_objective(spec, source.length)
    rows, blocks = {}, []
    for block in iter_blocks(source, objective, chunk):
        blocks.append(block)
        patterns, contexts = block.contexts()
        for j, c, row in zip(patterns, contexts, block.cooccurrence):
            pattern = objective.patterns[j]
            key = (pattern.visible, pattern.target, int(c))
            assert key not in rows, f"context {key} built twice"
            rows[key] = row
    return rows, blocks


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("chunk", [24, 300, DEFAULT_CHUNK])
@pytest.mark.parametrize("family", ["hmm", "markov"])  # hidden states; token is the state
def test_every_row_matches_enumeration_whatever_the_chunk(family, spec, chunk):
    source = source_from_dict(random_spec(family, r=2, V=3, H=2, T=5, seed=7, sparsity=0.3))
    assert source.emits_state == (family == "markov")
    rows, _ = _rows_by_context(source, spec, chunk)
    brute = Brute(source, spec)
    assert len(rows) == sum(3 ** len(S) for S, _ in {(S, i) for S, i, _ in brute.contexts})
    seen = set()
    for (S, i, xs), row in zip(brute.contexts, brute.A):
        index = int(np.ravel_multi_index(xs, (3,) * len(S))) if S else 0
        np.testing.assert_allclose(rows[(S, i, index)], row, atol=TOL)
        seen.add((S, i, index))
    assert all(not row.any() for key, row in rows.items() if key not in seen)


def test_small_chunks_split_by_prefixes_and_by_context_ranges():
    source = preset_source("hmm")
    _, whole = _rows_by_context(source, "vmlm", DEFAULT_CHUNK)
    _, blocks = _rows_by_context(source, "vmlm", 300)
    assert any(b.offset > 0 for b in blocks)  # a stack split along its contexts
    assert max(b.joint.shape[2] for b in blocks) > 1  # prefixes still stacked
    assert len(blocks) > len(whole)  # and stacks split by their prefixes
    # unsplit, one stack per target and size of S
    assert len(whole) == source.length**2


def test_analysis_does_not_depend_on_the_chunk():
    source, objective = preset_source("markov"), parse_objective("vmlm", 5)
    small = analyze(source, objective, 2, level="context", chunk=40).level("context")
    whole = analyze(source, objective, 2, level="context").level("context")
    np.testing.assert_allclose(small.singular_values, whole.singular_values, atol=TOL)
    for name in ("phi", "probe_error", "bound"):
        assert getattr(small, name) == pytest.approx(getattr(whole, name), abs=TOL)
    assert small.connectivity.within_class_gap == pytest.approx(
        whole.connectivity.within_class_gap, abs=TOL
    )


def test_sets_past_62_positions_use_python_integers():
    length = 64
    source = source_from_dict(random_spec("hmm", r=2, V=2, H=2, T=length, seed=1, sparsity=0.0))
    sets = np.array([(1 << 63) | 1, 1 << 5, 0], dtype=object)
    found = {}
    for masks, _, joint in stacked_joints(source, 2, sets, chunk=DEFAULT_CHUNK):
        for g, mask in enumerate(masks):
            found[mask] = joint[:, :, g]
    assert set(found) == set(sets)
    brute = joint_visible(source, [0, 2, 63])  # (r, x_0, x_2, x_63): target second
    ours = found[(1 << 63) | 1].reshape(2, 2, 2, 2)  # (r, x_2, x_0, x_63)
    np.testing.assert_allclose(ours, brute.transpose(0, 2, 1, 3), atol=TOL)
    np.testing.assert_allclose(found[0][:, :, 0], joint_visible(source, [2]), atol=TOL)


def test_background_keeps_order_and_raises_the_producers_error():
    assert list(in_background(iter(range(100)), depth=3)) == list(range(100))

    def failing():
        yield 1
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(in_background(failing()))


def test_background_stops_its_producer_when_the_caller_stops():
    made = []

    def endless():
        while True:
            made.append(len(made))
            yield made[-1]

    stream = in_background(endless(), depth=2)
    assert next(stream) == 0
    stream.close()
    count = len(made)
    assert count <= 4  # the item taken, the queue's two, the one in hand
    assert not any(t.name == "lookaround-producer" for t in threading.enumerate())
