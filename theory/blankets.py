"""The context rows of a chain source by Markov blanket, as :class:`FactoredChunk` (docs/theory.md §4.7).

When the token is the state (markov, graph walk), the target ``x_i`` of a pattern ``(S, i)``
depends on the context only through the class and the nearest visible positions ``a < i < b``:

``P(z, x_S, x_i = t) = L_z(x_{S <= a}) M_z(a, i)[x_a, t] M_z(i, b)[t, x_b] R_z(x_{S >= b})``

with ``L_z`` the chain's joint of the visible tokens up to ``a`` and ``R_z`` the law of those
after ``b`` given ``x_b``. So ``u(c) = L_z R_z`` (``r`` numbers, the product of two chain
walks) and ``M_{(x_a, x_b)}[z, t] = M_z(a, i)[x_a, t] M_z(i, b)[t, x_b]`` (one ``r x V`` matrix
per blanket value), where the row path (:mod:`lookaround.theory.chains`) writes ``r V`` numbers
per context and its Gram costs ``V^2``. The visible sets of a window are built together
(:mod:`lookaround.theory.windows`); a set whose contexts pass a chunk is walked here, on its
own, in parts.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator
from typing import Literal

import numpy as np

from lookaround.theory.chains import ChainMoves
from lookaround.theory.cooccurrence import Block, iter_blocks
from lookaround.theory.factored import FactoredChunk, gathered, halves
from lookaround.theory.hidden import hidden_chunks, hidden_pays
from lookaround.theory.objectives import Objective
from lookaround.theory.sources import Source
from lookaround.theory.windows import window_chunks

__all__ = [
    "BLANKET_CHUNK",
    "BLANKET_CONTEXTS",
    "WINDOW_CONTEXTS",
    "blanket_chunks",
    "blankets_pay",
    "context_chunks",
    "FactoredPath",
    "factored_path",
    "path_states",
]

FactoredPath = Literal["blankets", "hidden"]

# Floats of coefficients per chunk: a chunk's arrays should stay in the last-level cache,
# and below that Python's share grows. ar at V = 10 (medians of interleaved runs): T = 8 took
# 0.95 s at 131,072, 0.86 s at 262,144 and 0.83 s at 524,288; T = 9 took 8.2 s, 7.3 s and
# 7.3 s (32,768: 17.8 s); V = 30, T = 6: 2.28 s, 2.07 s and 1.84 s.
BLANKET_CHUNK = 262_144

# The visible sets of a window are walked together (theory/windows.py), but each rectangle
# costs Python in each pass and the passes' two threads overlap less than on the row path.
# Against the row path (four runs of benchmarks/paths.py), near the rule the two are even:
# 0.94-1.21x at a mean of 512 contexts a pattern (vmlm, V = 3, T = 10), 0.91-1.25x at 610,
# 1.07-1.40x at 1,024; past it 1.56-1.69x at 2,187 and 4.2-17x from 27,681. vmlm at V = 2, a
# few hundred contexts a pattern, turns with the total: 0.68-0.74x at T = 13 (6.9e6
# contexts), 0.84-1.05x at T = 14, 0.94-1.10x at T = 15 (7.2e7), 1.3-1.45x at T = 16 (2.3e8).
BLANKET_CONTEXTS = 512
WINDOW_CONTEXTS = 1 << 26


def blankets_pay(source: Source, objective: Objective) -> bool:
    """Whether :func:`blanket_chunks` applies (the token is the state) and pays (the cost
    model of docs/theory.md §4.7: at least :data:`BLANKET_CONTEXTS` contexts per pattern, or
    :data:`WINDOW_CONTEXTS` in all).

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.

    Returns
    -------
    bool

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source, resolve_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> blankets_pay(resolve_source("markov2(V=6,T=8)"), parse_objective("ar", 8))
    True
    >>> blankets_pay(preset_source("markov"), parse_objective("ar", 5))  # 30 contexts a pattern
    False
    >>> blankets_pay(preset_source("topic"), parse_objective("ar", 4))  # an HMM
    False
    """
    contexts = objective.context_count(source.vocab)
    many = contexts >= min(BLANKET_CONTEXTS * objective.support_size(), WINDOW_CONTEXTS)
    return source.emits_state and many


def factored_path(source: Source, objective: Objective) -> FactoredPath | None:
    """The path :func:`context_chunks` takes: ``"blankets"`` (by Markov blanket),
    ``"hidden"`` (by the target's hidden state) or None (the row path).

    A name, not a count of states: a one-state HMM (an iid or positional source) takes the
    hidden-state path with one state a class, as many coefficients as the blanket path has.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.

    Returns
    -------
    str or None
        The factored path's name, or None for the row path.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source, resolve_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> factored_path(preset_source("markov"), parse_objective("ar", 5)) is None
    True
    >>> factored_path(resolve_source("positional2(V=4,T=8)"), parse_objective("ar", 8))
    'hidden'
    """
    if blankets_pay(source, objective):
        return "blankets"
    if hidden_pays(source, objective, BLANKET_CONTEXTS):
        return "hidden"
    return None


def path_states(source: Source, path: FactoredPath) -> int:
    """``S``, the coefficients a class has on a factored path: 1 on the blanket path (the
    class alone), ``H`` on the hidden-state path.

    Parameters
    ----------
    source : Source
        The source.
    path : str
        ``"blankets"`` or ``"hidden"``.

    Returns
    -------
    int

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> path_states(preset_source("hmm"), "hidden"), path_states(preset_source("markov"), "blankets")
    (2, 1)
    """
    return 1 if path == "blankets" else source.n_states


def context_chunks(
    source: Source, objective: Objective, blocks: Iterable[Block] | None = None, *, chunk: int
) -> Iterator[FactoredChunk] | Iterator[tuple[np.ndarray, np.ndarray]]:
    """The rows of ``A`` for one pass, by the cheapest path: :func:`blanket_chunks` where
    :func:`blankets_pay`, :func:`lookaround.theory.hidden.hidden_chunks` where
    :func:`lookaround.theory.hidden.hidden_pays`, else ``(rows, class_joint)`` of the
    objective's blocks.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.
    blocks : iterable of Block, optional
        The blocks the row path reads (default: :func:`iter_blocks`, built now).
    chunk : int
        Floats per block or chunk, about (a chunk of the blanket path holds at most
        :data:`BLANKET_CHUNK`).

    Returns
    -------
    iterator
        Chunks for :func:`lookaround.theory.spectral.run_pass`.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.theory.spectral import target_side_pass
    >>> src = preset_source("markov")
    >>> side = target_side_pass(context_chunks(src, parse_objective("ar", 5), chunk=10**6))
    >>> round(float(side.singular_values(1)[0]), 12)
    1.0
    """
    path = factored_path(source, objective)
    if path == "blankets":
        return blanket_chunks(source, objective, chunk=min(chunk, BLANKET_CHUNK))
    if path == "hidden":
        return hidden_chunks(source, objective, chunk=min(chunk, BLANKET_CHUNK))
    rows = iter_blocks(source, objective, chunk) if blocks is None else blocks
    return ((b.cooccurrence, b.class_joint) for b in rows)


def blanket_chunks(source: Source, objective: Objective, *, chunk: int) -> Iterator[FactoredChunk]:
    """Every context of ``objective`` on a chain ``source``, pattern after pattern, as
    :class:`FactoredChunk` of about ``chunk`` floats each.

    Parameters
    ----------
    source : Source
        A source whose token is its state (``source.emits_state``).
    objective : Objective
        Of the source's length.
    chunk : int
        Floats of one chunk's coefficients, about.

    Yields
    ------
    FactoredChunk

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> src = preset_source("markov")
    >>> total = sum(c.mass.sum() for c in blanket_chunks(src, parse_objective("mlm:2", 5), chunk=10**6))
    >>> round(float(total), 12)
    1.0
    """
    moves = ChainMoves(source)
    per_pattern = functools.partial(_pattern_chunks, moves, chunk=chunk)
    return gathered(window_chunks(moves, objective, per_pattern, chunk=chunk), chunk)


def _pattern_chunks(
    moves: ChainMoves, visible: tuple[int, ...], target: int, weight: float, chunk: int
) -> Iterator[FactoredChunk]:
    left = [p for p in visible if p < target]
    right = [p for p in visible if p > target]
    near, far = (left[-1] if left else -1), (right[0] if right else moves.source.length)
    basis = moves.basis(near, target, far) * weight
    # each walk in parts of a chunk: the left one is walked again for each part of the right,
    # r / chunk of the contexts' work
    for after in _walks(moves, right, True, chunk):  # (r, V_b, n_R)
        for before in _walks(moves, left, False, chunk):  # (r, V_a, n_L)
            yield from _blanket_parts(before, after, basis, chunk)


def _blanket_parts(
    before: np.ndarray, after: np.ndarray, basis: np.ndarray, chunk: int
) -> Iterator[FactoredChunk]:
    """The chunks of ``u[(a, b), z, (l, m)] = L_z[a, l] R_z[b, m]`` (``before`` (r, V_a,
    n_L), ``after`` (r, V_b, n_R)), each with the bases of its own blankets: cut along
    ``(a, b)``, a chunk carries every one of its blankets' contexts, so that each blanket's
    ``V^2`` products in the consumers are paid once, not once per part of its contexts (vmlm
    at V = 30, T = 5: its sets of four positions walked alone in 7 parts of each of 900
    blankets). Contexts are cut only where a walk's, or one blanket's, pass a chunk."""
    r, count = before.shape[0], before.shape[2] * after.shape[2]
    rows = after.shape[1]
    lefts, rights = before.transpose(1, 0, 2), after.transpose(1, 0, 2)  # (V_a, r, n_L)
    # u[a, b, z, l, m], the contexts last (every consumer reads them along the last axis)
    if r * count > chunk:  # one blanket past a chunk: one blanket at a time, its contexts cut
        for a, b in np.ndindex(lefts.shape[0], rows):
            for part in halves(lefts[a : a + 1], 2, chunk // after.shape[2]):
                yield _product(part, rights[b : b + 1], basis[a * rows + b : a * rows + b + 1])
        return
    per = chunk // (r * count)  # blankets a chunk
    if per >= rows:  # whole rows of b
        step = per // rows
        for a in range(0, lefts.shape[0], step):
            yield _product(lefts[a : a + step], rights, basis[a * rows : (a + step) * rows])
        return
    for a, b in itertools.product(range(lefts.shape[0]), range(0, rows, per)):
        part = rights[b : b + per]
        start = a * rows + b
        yield _product(lefts[a : a + 1], part, basis[start : start + len(part)])


def _product(lefts: np.ndarray, rights: np.ndarray, basis: np.ndarray) -> FactoredChunk:
    """The chunk of ``lefts`` (V_a', r, n_L) against ``rights`` (V_b', r, n_R)."""
    product = np.multiply(
        lefts[:, None, :, :, None], rights[None, :, :, None, :], order="C"
    )  # (V_a', V_b', r, n_L, n_R)
    r = lefts.shape[1]
    return FactoredChunk(product.reshape(-1, r, product.shape[3] * product.shape[4]), basis)


def _walks(
    moves: ChainMoves, positions: list[int], given_first: bool, budget: int
) -> Iterator[np.ndarray]:
    """The chain's joint over ``positions`` in parts of about ``budget`` floats.

    ``L_z(x_positions)`` as (r, V_last, n), the class's prior included; or, ``given_first``,
    ``R_z(x_rest | x_first)`` as (r, V_first, n). No positions (or only the given one): a
    single ``1`` per class (and first token).
    """
    source = moves.source
    r, vocab = source.n_classes, source.vocab
    if len(positions) <= given_first:  # no position: 1; the given one only: 1 per token
        yield np.ones((r, vocab if positions else 1, 1))
        return
    if given_first:  # (r, K = V_first, V_second, n = 1): the first move, the first token kept
        start = moves.move(positions[0], positions[1])[:, :, :, None]
        at, rest = positions[1], positions[2:]
    else:
        start = moves.start(positions[0])[:, None, :, None]  # (r, K = 1, V, n = 1)
        at, rest = positions[0], positions[1:]
    for part in _extend(moves, start, at, rest, budget):
        yield part.reshape(r, part.shape[1], -1) if given_first else part[:, 0]


def _extend(
    moves: ChainMoves, joint: np.ndarray, at: int, rest: list[int], budget: int
) -> Iterator[np.ndarray]:
    """Read ``rest`` into ``joint[z, k, last, n]`` (``last`` the token at ``at``), halving the
    contexts ``n`` whenever the next product (or, at the end, the joint) would pass
    ``budget`` floats. The contexts run along the last axis, the newest token slowest, so
    each product reads and writes them contiguously."""
    if not rest:
        yield from halves(joint, 3, budget)
        return
    r, carried, vocab, _ = joint.shape
    move = moves.move(at, rest[0]).transpose(0, 2, 1)  # (r, V_to, V_from)
    for part in halves(joint, 3, budget // vocab):
        # grown[z, k, t, (f, n)] = part[z, k, f, n] move[z, f, t]
        grown = np.multiply(part[:, :, None], move[:, None, :, :, None], order="C")
        grown = grown.reshape(r, carried, vocab, vocab * part.shape[3])
        yield from _extend(moves, grown, rest[0], rest[1:], budget)
