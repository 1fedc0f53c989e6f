"""The window path (theory/windows.py): its rectangles are the objective's patterns, and its
chunks the row path's numbers, on every objective and on objectives with no structure."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import OBJECTIVES, min_length, random_spec
from test_blankets import _assert_same, _both

from lookaround.theory.blankets import (
    BLANKET_CONTEXTS,
    WINDOW_CONTEXTS,
    blanket_chunks,
    blankets_pay,
)
from lookaround.theory.marginals import bayes_labels
from lookaround.theory.objectives import Objective, Pattern, parse_objective
from lookaround.theory.sources import source_from_dict
from lookaround.theory.windows import rectangles


def _weights_by_pattern(objective: Objective) -> dict[tuple[tuple[int, ...], int], float]:
    """Every pattern of the rectangles, with its weight (each exactly once)."""
    found: dict[tuple[tuple[int, ...], int], float] = {}
    for rectangle in rectangles(objective):
        pairs = itertools.product(range(len(rectangle.left_sets)), range(len(rectangle.right_sets)))
        for g, h in pairs:
            visible = rectangle.visible(g, h)
            for slot, weight in enumerate(rectangle.weights):
                if weight != 0:
                    key = (visible, rectangle.left + 1 + slot)
                    assert key not in found, key
                    found[key] = float(weight)
    return found


def _random_objective(length: int, seed: int) -> Objective:
    """Patterns drawn at random with random weights: no rectangle of more than one set but
    by chance, and weights that differ between the targets of a window."""
    rng = np.random.default_rng(seed)
    every = [
        Pattern(tuple(int(p) for p in np.flatnonzero(bits)), i)
        for i in range(length)
        for bits in itertools.product([0, 1], repeat=length)
        if not bits[i]
    ]
    chosen = sorted(every[k] for k in rng.choice(len(every), size=len(every) // 3, replace=False))
    weights = rng.random(len(chosen))
    return Objective("random", length, tuple(chosen), weights / weights.sum())


@pytest.mark.parametrize("spec", OBJECTIVES)
@pytest.mark.parametrize("length", [2, 5, 7])
def test_the_rectangles_hold_every_pattern_once_with_its_weight(spec, length):
    if length < min_length(spec):
        pytest.skip("outside the objective's domain")
    objective = parse_objective(spec, length)
    expected = {
        (p.visible, p.target): float(w) for p, w in zip(objective.patterns, objective.weights)
    }
    assert _weights_by_pattern(objective) == expected


@settings(max_examples=25, deadline=None)
@given(length=st.integers(2, 6), seed=st.integers(0, 10**6))
def test_the_rectangles_of_an_objective_with_no_structure_hold_its_patterns(length, seed):
    objective = _random_objective(length, seed)
    expected = {
        (p.visible, p.target): float(w) for p, w in zip(objective.patterns, objective.weights)
    }
    assert _weights_by_pattern(objective) == expected


def test_the_masked_objectives_make_one_rectangle_per_window_and_sizes():
    objective = parse_objective("vmlm", 8)
    found = rectangles(objective)
    # one per (a, b, k_L, k_R): k_L in 0..a (0 alone when a = -1), k_R in 0..7 - b (0
    # alone when b = 8, no right neighbour)
    expected = sum(max(a + 1, 1) * max(8 - b, 1) for a in range(-1, 8) for b in range(a + 2, 9))
    assert len(found) == expected
    assert sum(len(r.left_sets) * len(r.right_sets) * np.count_nonzero(r.weights)
               for r in found) == len(objective.patterns)  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "length"), [("vmlm", 9), ("plm", 7), ("aas", 6), ("mlm:1", 8), ("mlm:3", 9),
                         ("vmlm:2-4", 8), ("mlm:2", 2), ("vmlm", 2)],
)  # fmt: skip
def test_an_exchangeable_objective_is_planned_as_its_patterns_would_be(monkeypatch, spec, length):
    """The closed form of the rectangles (no pattern read) is the plan from the bitmasks,
    rectangle by rectangle, in the same order (the numbers' sums run in that order)."""
    fast = rectangles(parse_objective(spec, length))
    monkeypatch.setattr(Objective, "size_law", lambda self: None)
    slow = rectangles(parse_objective(spec, length))
    assert len(fast) == len(slow)
    for mine, theirs in zip(fast, slow):
        assert (mine.left, mine.right, mine.length) == (theirs.left, theirs.right, theirs.length)
        for field in ("left_sets", "right_sets", "weights"):
            a, b = getattr(mine, field), getattr(theirs, field)
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_objective_with_no_structure_has_the_row_paths_numbers(monkeypatch, seed):
    source = source_from_dict(random_spec("markov", 2, 3, 3, 5, seed, sparsity=0.3))
    _assert_same(*_both(monkeypatch, source, _random_objective(5, seed), 2))


def test_the_targets_of_a_window_share_their_labels():
    """A twin's labels are those of its own class joint, proportional to its twin's."""
    source = source_from_dict(random_spec("markov", 3, 2, 2, 9, 4, sparsity=0.2))
    twins = [c for c in blanket_chunks(source, parse_objective("vmlm", 9), chunk=512) if c.twin]
    assert twins
    for chunk in twins:
        twin = chunk.twin
        assert twin is not None
        own = bayes_labels(chunk._class_joint, axis=1).reshape(-1)
        np.testing.assert_array_equal(chunk.labels, own)
        positive = twin._class_joint > 0
        ratio = chunk._class_joint[positive] / twin._class_joint[positive]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)


@pytest.mark.parametrize(("spec", "length"), [("vmlm", 7), ("plm", 6), ("ar", 62), ("ar", 63)])
def test_the_visible_sets_as_bitmasks(spec, length):
    """The running-sum masks (S = {} included) and, past T = 62, Python ints."""
    objective = parse_objective(spec, length)
    for target, (indices, masks) in objective.by_target().items():
        expected = [sum(1 << p for p in objective.patterns[k].visible) for k in indices]
        assert [int(m) for m in masks] == expected
        assert all(objective.patterns[k].target == target for k in indices)
        assert masks.dtype == (np.int64 if length <= 62 else object)


def test_the_bitmasks_are_exact_where_their_running_sum_wraps():
    """Eight sets of 60 positions at T = 62: the running sum passes 2^63 and wraps."""
    patterns = tuple(Pattern(tuple(p for p in range(61) if p != k), 61) for k in range(8))
    objective = Objective("wrap", 62, patterns, np.full(8, 1 / 8))
    _, masks = objective.by_target()[61]
    assert [int(m) for m in masks] == [sum(1 << p for p in q.visible) for q in patterns]


def test_the_blanket_path_is_taken_where_the_objective_has_many_contexts_in_all():
    """vmlm at V = 2 has a few hundred contexts a pattern: the path turns on the total."""
    for length, pays in ((13, False), (15, True)):
        source = source_from_dict(random_spec("markov", 2, 2, 2, length, 0, sparsity=0.0))
        objective = parse_objective("vmlm", length)
        total = objective.context_count(2)
        assert total < BLANKET_CONTEXTS * len(objective.patterns)
        assert (total >= WINDOW_CONTEXTS) == pays == blankets_pay(source, objective)
