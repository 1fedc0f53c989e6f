"""What an exact request will cost, estimated before it starts: memory and modelled time.

The estimates follow the streaming design: the context level holds one block chunk (or, when
they fit the cache, all blocks); the sample level holds the per-visible-set conditional
tables, the class-joint of every sequence and, when they fit, the sample blocks. The guards
that refuse a request past its limits are in :mod:`lookaround.theory.limits`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lookaround.theory.cooccurrence import SAMPLE_CHUNK
from lookaround.theory.graphs import KERNEL_CHUNK, degree_entries
from lookaround.theory.objectives import Objective
from lookaround.theory.sources import Source

__all__ = [
    "AUGMENTATION_MAX_SEQUENCES",
    "CACHE_FLOATS",
    "Estimate",
    "FLOAT",
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
# sequences (markov2) takes less, 0.14-1.4x, since V^T counts them.
_FIXED, _PER_PATTERN = 0.026, 9.3e-5
_PER_WORK, _PER_GATHER = 1.28e-8, 5.3e-8
_PER_KERNEL_ENTRY, _PER_AUGMENTED_ENTRY = 3.24e-9, 1.47e-5


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
    entries = sum(vocab ** (len(p.visible) + 1) for p in objective.patterns)
    states = 1 if source.emits_state else source.n_states
    work = r * states * entries
    # A block lives as alpha, the joint, A's rows and class-joint (r + 2 floats an entry); all
    # blocks when cached, else one chunk and, half the time, the next one built beside it.
    cached = entries <= CACHE_FLOATS
    context_bytes = int(FLOAT * (r + 2) * (entries if cached else 1.5 * chunk))
    sequences = vocab**source.length
    sets = {p.visible for p in objective.patterns}
    gathers = sequences * len(sets)
    # the objective's own pattern table (Python objects, built before this estimate runs):
    # about 60 bytes a pattern and 24 a visible position, 0.9-1.1x of tracemalloc's peak for
    # vmlm at T = 14, 16 and mlm:8 at T = 16 (116 MB for vmlm at T = 16, left out before)
    positions = sum(len(p.visible) for p in objective.patterns)
    memory = context_bytes + 60 * len(objective.patterns) + 24 * positions
    if level in ("sample", "both"):
        tables = FLOAT * vocab * sum(vocab ** len(s) for s in sets)
        joint = FLOAT * r * sequences
        rows = sequences * (vocab + r)
        # past the cache one chunk is held: SAMPLE_CHUNK / V sequences, bounded above here
        blocks = FLOAT * (rows if rows <= CACHE_FLOATS else SAMPLE_CHUNK * (vocab + r)) * 2
        # the effective degree's rows of K (computed when the blocks are cached)
        kernel = 3 * FLOAT * min(sequences**2, max(sequences, KERNEL_CHUNK))
        memory += tables + joint + blocks + (kernel if rows <= CACHE_FLOATS else 0)
    seconds = _seconds(source, objective, level, entries, work, gathers)
    return Estimate(entries, work, sequences, gathers, memory, seconds)


def _seconds(
    source: Source, objective: Objective, level: str, entries: int, work: int, gathers: int
) -> float:
    """The fitted time model: the forward passes, then the sample level's gathers, its
    effective degree (on rows it can cache) and, on small sources, the augmentation graph."""
    seconds = _FIXED + _PER_PATTERN * len(objective.patterns) + _PER_WORK * work
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
    states = 1 if source.emits_state else source.n_states
    return FLOAT * source.vocab**source.length * (2 * source.n_classes * states + 1)
