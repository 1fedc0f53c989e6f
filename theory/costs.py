"""What an exact request will cost, estimated before it starts: memory and modelled time.

The estimates follow the streaming design: the context level holds one block chunk (or, when
they fit the cache, all blocks; on the blanket path, docs/theory.md §4.7, ``3 r + 2`` floats
a context instead of a row); the sample level holds the per-visible-set conditional
tables, the class-joint of every sequence and, when they fit, the sample blocks. The guards
that refuse a request past its limits are in :mod:`lookaround.theory.limits`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lookaround.theory.blankets import BLANKET_CHUNK, FactoredPath, factored_path, path_states
from lookaround.theory.cooccurrence import SAMPLE_CHUNK
from lookaround.theory.graphs import KERNEL_CHUNK, degree_entries
from lookaround.theory.objectives import MASK_LENGTH, Objective
from lookaround.theory.sources import Source
from lookaround.theory.windows import rectangles

__all__ = [
    "AUGMENTATION_MAX_SEQUENCES",
    "CACHE_FLOATS",
    "Estimate",
    "FLOAT",
    "context_work",
    "draws_bytes",
    "estimate",
    "generation_bytes",
]

CACHE_FLOATS = 30_000_000  # blocks kept for the second pass up to ~240 MB
FLOAT = 8
AUGMENTATION_MAX_SEQUENCES = 5_000  # Lanczos on the incidence costs seconds past this
# Seconds of one exact analysis on one thread, fitted to 24 runs of hmm2 and positional2
# (V = 3..6, T = 6..8, ar, mlm:2, dar:2, vmlm): measured/model 0.87-1.27 on the fitting run,
# 1.06-1.62 on a later one (benchmarks/analysis_sizing.py). A source with zero-probability
# sequences (markov2) takes less, 0.14-1.4x, since V^T counts them. Since the exact passes
# of issue 30 it is an upper bound: 0.31-0.43 on those runs, 0.05-0.86 at the context level
# (benchmarks/analysis_sizing_2026-12-07.txt; a refit of these terms reads 0.60-1.66).
_FIXED, _PER_PATTERN = 0.026, 9.3e-5
_PER_WORK, _PER_GATHER = 1.28e-8, 5.3e-8
_PER_KERNEL_ENTRY, _PER_AUGMENTED_ENTRY = 3.24e-9, 1.47e-5
# The factored context level (docs/theory.md §4.7), fitted (the largest error the smallest,
# one thread, best of two): the blanket path to 47 runs on markov chains (r = 2, V = 2..50,
# T = 4..15; ar, mlm:2, dar:2, vmlm), measured/model 0.72-1.38 (benchmarks/analysis_sizing.py
# --factored). Its terms are a pattern (its share of the plan), a rectangle of the window
# path (the Python of its walks and chunks), a context, and the per-blanket
# ``M_b^T W_b M_b``, ``V^2`` for each value of each pattern's blanket. The hidden-state path
# costs a context and each of its ``r H`` coefficients (a fixed and a per-pattern term fit to
# 0): fitted to 94 runs on HMMs (r = 2, H = 1..3, V = 4..30, T = 5..9; the same objectives;
# two rounds of 40 and the 14 of analysis_sizing_factored_2026-12-07c.txt past 0.05 s),
# 0.74-1.35. A count of contexts alone read one-state HMMs at 0.37-0.57.
_BLANKET = (6.04e-3, 9.8e-7, 2.58e-4, 4.69e-8, 1.95e-9)
_HIDDEN = (3.0e-8, 2.3e-8)


def draws_bytes(n: int, length: int) -> int:
    """Peak bytes of ``n`` drawn sequences of ``length`` tokens with their pattern, class and
    context ids and the copies training makes of them (measured: ``64 + 8 T`` per draw).

    Parameters
    ----------
    n : int
        Sequences drawn.
    length : int
        ``T``.

    Returns
    -------
    int

    Examples
    --------
    >>> draws_bytes(1_000_000, 5)
    104000000
    """
    return n * (64 + FLOAT * length)


@dataclass(frozen=True)
class Estimate:
    """Sizes of an exact analysis.

    Attributes
    ----------
    context_entries : int
        ``sum_omega V^(|S|+1)``: context-target entries (zero-mass ones included).
    context_work : int
        ``r H`` times that: what the forward passes touch.
    sequences : int
        ``V^T``.
    sample_gathers : int
        ``V^T`` times the number of distinct visible sets.
    memory_bytes : int
        Estimated peak memory of the requested level(s).
    seconds : float
        Modelled time on one thread (the fitted model above these definitions).
    """

    context_entries: int
    context_work: int
    sequences: int
    sample_gathers: int
    memory_bytes: int
    seconds: float

    def cached(self) -> bool:
        """Whether the context blocks fit the cache (else they are rebuilt for each pass)."""
        return self.context_entries <= CACHE_FLOATS


def context_work(source: Source, objective: Objective) -> int:
    """``r H sum_omega V^(|S|+1)``: the context-target entries times the hidden states the
    forward passes carry (1 where the token is the state), counted from the objective's sizes
    alone, before anything is planned.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.

    Returns
    -------
    int

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> context_work(preset_source("topic"), parse_objective("ar", 4))  # r H = 2, 336 entries
    672
    """
    return (
        source.n_classes * _carried(source) * source.vocab * objective.context_count(source.vocab)
    )


def estimate(source: Source, objective: Objective, *, level: str, chunk: int) -> Estimate:
    """Sizes and peak memory of ``analyze(source, objective, k, level)``.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.
    level : {"context", "sample", "both"}
        The levels asked for.
    chunk : int
        Floats per block of the streamed passes.

    Returns
    -------
    Estimate

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> e = estimate(preset_source("topic"), parse_objective("ar", 4), level="both", chunk=2_000_000)
    >>> e.context_entries, e.sequences
    (336, 256)
    """
    r, vocab = source.n_classes, source.vocab
    entries = vocab * objective.context_count(vocab)
    work = context_work(source, objective)
    cached = entries <= CACHE_FLOATS
    # past T = 62 no exact analysis runs (V^(T-1) contexts and more): the row model sizes it
    path = factored_path(source, objective) if objective.length <= MASK_LENGTH else None
    factored = None
    if path is not None:
        bases = _bases(source, objective, path)
        context_bytes = _factored_bytes(source, objective, cached, path, bases)
        factored = _factored_seconds(source, objective, path, bases)
    else:
        # A block lives as alpha, the joint, A's rows and class-joint (r + 2 floats an entry);
        # all blocks when cached, else one chunk and, half the time, the next one built beside it.
        context_bytes = int(FLOAT * (r + 2) * (entries if cached else 1.5 * chunk))
    sequences = vocab**source.length
    gathers = sequences * objective.visible_set_count()  # once per visible set
    # the objective's own pattern table (Python objects), if built: about 60 bytes a pattern
    # and 24 a visible position, 0.9-1.1x of tracemalloc's peak for vmlm at T = 14, 16 and
    # mlm:8 at T = 16 (116 MB for vmlm at T = 16). An exchangeable objective's is built by
    # the sample level alone (Objective.exchangeable); at the context level the row path
    # reads its patterns as arrays, 48 bytes a pattern
    patterns = objective.support_size()
    if objective.holds_table() or level != "context":
        memory = context_bytes + 60 * patterns + 24 * objective.visible_positions()
    else:
        memory = context_bytes + (48 * patterns if path is None else 0)
    if level in ("sample", "both"):
        tables = FLOAT * vocab * _set_contexts(objective, vocab)
        joint = FLOAT * r * sequences
        rows = sequences * (vocab + r)
        # past the cache one chunk is held: SAMPLE_CHUNK / V sequences, bounded above here
        blocks = FLOAT * (rows if rows <= CACHE_FLOATS else SAMPLE_CHUNK * (vocab + r)) * 2
        # the effective degree's rows of K (computed when the blocks are cached)
        kernel = 3 * FLOAT * min(sequences**2, max(sequences, KERNEL_CHUNK))
        memory += tables + joint + blocks + (kernel if rows <= CACHE_FLOATS else 0)
    seconds = _seconds(source, objective, level, entries, work, gathers)
    if factored is not None:  # the context level factored; the row model stays for the sample's
        seconds = factored + (0 if level == "context" else seconds)
    return Estimate(entries, work, sequences, gathers, memory, seconds)


def _set_contexts(objective: Objective, vocab: int) -> int:
    """``sum_S V^|S|`` over the distinct visible sets (every set of a weighed size, for an
    exchangeable objective: its table is not read)."""
    law = objective.size_law()
    if law is not None:
        return sum(math.comb(objective.length, size) * vocab**size for size in law)
    return sum(vocab ** len(s) for s in {p.visible for p in objective.patterns})


@dataclass(frozen=True)
class _Bases:
    """The bases ``M_b`` of a factored path, counted in ``r S x V`` matrices: every pattern's
    (``V`` per visible neighbour of the target on the blanket path, one on the hidden-state
    path), the most one pattern has, and the most held at once when streamed (on the blanket
    path, a window's, weighted and stacked into its chunks: three of each of its targets)."""

    total: int
    largest: int
    streamed: int


def _bases(source: Source, objective: Objective, path: FactoredPath) -> _Bases:
    if path == "hidden":
        return _Bases(objective.support_size(), 1, 1)
    # read off the window path's rectangles, the one place that finds each pattern's window
    total = largest = widest = 0
    for group in rectangles(objective):
        values = source.vocab ** ((group.left >= 0) + (group.right < source.length))
        targets = int(np.count_nonzero(group.weights))
        total += len(group.left_sets) * len(group.right_sets) * targets * values
        largest, widest = max(largest, values), max(widest, targets)
    return _Bases(total, largest, 3 * widest * largest)


def _factored_bytes(
    source: Source, objective: Objective, cached: bool, path: FactoredPath, bases: _Bases
) -> int:
    """Peak bytes of a factored context level (docs/theory.md §4.7): per context its ``r S``
    coefficients, class joint and indicator (``r`` floats each), mass and label; each chunk's
    bases; the largest chunk's passing arrays, the within-class Grams' (degrees, scale and
    the scaled coefficients, whole and by class: ``r + 2 + r S + r^2 S`` floats a context);
    and, streamed, the chunks in flight and a walk's messages. Measured peaks are 0.73-1.35x
    of it on the blanket path and 0.91-1.10x on the hidden-state path over 56 analyses
    (benchmarks/analysis_sizing.py --factored), 0.79-1.34x on the six of tests/test_sizing.py."""
    r, vocab = source.n_classes, source.vocab
    weights = r * path_states(source, path)
    contexts = objective.context_count(vocab)
    deepest = objective.largest_visible()
    per_chunk = _largest_chunk(vocab**deepest, contexts, weights)
    # streamed: the chunk consumed, two waiting, one being built, the parts gathered (four
    # chunks' worth) and a window's targets sharing one product (seven in all on the
    # blanket path, six on the hidden-state path, fitted), and a walk's messages: a chunk at
    # each position read once its message has reached a chunk, and one for all those before
    held = contexts if cached else min(contexts, (7 if path == "blankets" else 6) * per_chunk)
    small = 0
    while weights * vocab ** (small + 1) <= BLANKET_CHUNK:
        small += 1
    stack = 0 if cached else (max(0, deepest - small) + 1) * BLANKET_CHUNK
    basis = (bases.total if cached else bases.streamed) * weights * vocab
    # the bases' products in the Grams, three bases' worth
    passing = per_chunk * (r + 2 + weights + r * weights) + 3 * bases.largest * weights * vocab * r
    return int(FLOAT * (held * (weights + 2 * r + 2) + basis + passing + stack))


def _largest_chunk(largest: int, contexts: int, weights: int) -> int:
    """Contexts of the largest chunk: the largest pattern's (``largest`` contexts), halved
    until its coefficients fit a chunk, or a whole chunk where patterns of less than a
    quarter of one are gathered."""
    cap = BLANKET_CHUNK // weights
    if 4 * largest * weights < BLANKET_CHUNK:
        return min(contexts, cap)
    while largest > cap:
        largest = -(-largest // 2)
    return largest


def _factored_seconds(
    source: Source, objective: Objective, path: FactoredPath, bases: _Bases
) -> float:
    vocab = source.vocab
    contexts = objective.context_count(vocab)
    patterns = objective.support_size()
    if path == "hidden":
        per_context, per_coefficient = _HIDDEN  # r H coefficients a context
        return contexts * (per_context + per_coefficient * source.n_classes * source.n_states)
    fixed, per_pattern, per_rectangle, per_context, last = _BLANKET
    extra = bases.total * vocab**2
    groups = per_rectangle * len(rectangles(objective))
    return fixed + per_pattern * patterns + groups + per_context * contexts + last * extra


def _seconds(
    source: Source, objective: Objective, level: str, entries: int, work: int, gathers: int
) -> float:
    """The fitted time model: the forward passes, then the sample level's gathers, its
    effective degree (on rows it can cache) and, on small sources, the augmentation graph."""
    seconds = _FIXED + _PER_PATTERN * objective.support_size() + _PER_WORK * work
    if level in ("sample", "both"):
        sequences, vocab = source.vocab**source.length, source.vocab
        seconds += _PER_GATHER * gathers
        if sequences * (vocab + source.n_classes) <= CACHE_FLOATS:
            seconds += _PER_KERNEL_ENTRY * (vocab + 1) * degree_entries(sequences)
        if sequences <= AUGMENTATION_MAX_SEQUENCES:
            seconds += _PER_AUGMENTED_ENTRY * entries
    return seconds


def generation_bytes(source: Source) -> int:
    """Peak memory of the exact T3 losses: the full prefix table, ``8 V^T (2 r H + 1)`` bytes.

    ``H`` is the hidden states carried by the forward pass (1 when the token is the state);
    measured peaks are 0.5-1.0x of it (``tests/test_sizing.py``).

    Parameters
    ----------
    source : Source
        The source.

    Returns
    -------
    int

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> generation_bytes(preset_source("topic"))  # V = 4, T = 4, r = 2, H = 2
    10240
    """
    return FLOAT * source.vocab**source.length * (2 * source.n_classes * _carried(source) + 1)


def _carried(source: Source) -> int:
    """``H``, the hidden states a forward pass carries: 1 where the token is the state."""
    return 1 if source.emits_state else source.n_states
