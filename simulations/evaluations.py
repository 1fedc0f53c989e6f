"""How networks are judged: the evaluation modes of ``pretrain`` and their sizes.

Kept apart from :mod:`lookaround.simulations.sampled` so that the command line's parser reads
its choices and defaults without importing scikit-learn.
"""

from __future__ import annotations

from lookaround.simulations.architectures import forward_flops

__all__ = [
    "EVALUATIONS",
    "EVALUATION_SEQUENCES",
    "MAX_EVAL_SEQUENCES",
    "MIN_EVAL_SEQUENCES",
    "PATTERNS_PER_SEQUENCE",
    "evaluation_bytes",
    "evaluation_seconds",
]

EVALUATIONS = ("auto", "exact", "sampled")  # auto: exact where the population is enumerable
EVALUATION_SEQUENCES = 20_000  # held-out sequences of a sampled evaluation, by default
MIN_EVAL_SEQUENCES = 100  # two halves of a cross-fit, each with room for its probe
MAX_EVAL_SEQUENCES = 100_000  # (n, J, V) exact laws and network outputs are held at once
PATTERNS_PER_SEQUENCE = 8  # J and G: patterns and prefix lengths read per sequence

# Fitted on this 2-core machine (benchmarks/sampled_sizing.py, recorded 2026-12-06): the exact
# laws of one context by forward-backward, per T r H^2; one network read, per floating-point
# operation, a masked row at a share of a causal one's (one read-out slot, not every position);
# one probe and one ARI with their bootstraps, per sequence and per feature.
LAW_SECONDS = 2.8e-9
READ_FLOPS_PER_SECOND = 1.4e10
MASKED_ROW_SHARE = 0.62
METRIC_SECONDS, METRIC_FEATURE_SECONDS = 5.4e-5, 4.5e-6
# The belief maps (``belief``): their laws and reads at this share of the evaluation's per unit
# (no head to compute), and their moments per context and squared feature.
BELIEF_SHARE, MOMENT_SECONDS = 0.75, 1e-9


def evaluation_seconds(
    *, n: int, length: int, classes: int, states: int, width: int, layers: int,
    ks: tuple[int, ...], causal: bool, per_sequence: int = PATTERNS_PER_SEQUENCE,
    belief: bool = False,
) -> float:  # fmt: skip
    """Modelled seconds of one sampled evaluation of one network on ``n`` sequences.

    Parameters
    ----------
    n : int
        Held-out sequences.
    length, classes, states : int
        The source's ``T``, ``r`` and hidden states ``H``.
    width, layers : int
        The network's ``d`` and ``L``.
    ks : tuple of int
        The ``k`` of the T1 map.
    causal : bool
        A causal network reads a sequence once; a masked one once per pattern and length.
    per_sequence : int
        ``J`` and ``G``.
    belief : bool
        Add the belief maps on the same draws: the beliefs of every context, the network's
        layers read again and each layer's moments.

    Returns
    -------
    float

    Examples
    --------
    >>> round(evaluation_seconds(n=20_000, length=32, classes=4, states=10, width=32, layers=2,
    ...                          ks=(2, 4), causal=False))
    45
    >>> round(evaluation_seconds(n=20_000, length=32, classes=4, states=10, width=32, layers=2,
    ...                          ks=(2, 4), causal=False, belief=True))
    60
    """
    patterns, lengths = min(per_sequence, length * 8), min(per_sequence, length - 1)
    law = length * classes * states**2 * LAW_SECONDS  # one context's
    rows = n * (2 if causal else MASKED_ROW_SHARE * (patterns + lengths + 1))
    seconds = n * (patterns + 1) * law + _reads(rows, length, layers, width)
    seconds += sum(
        n * (METRIC_SECONDS + METRIC_FEATURE_SECONDS * d) for d in [*ks, width + 1, width + 1]
    )
    if belief:
        again = n * (1 if causal else MASKED_ROW_SHARE * patterns)  # rows a belief pass reads
        seconds += BELIEF_SHARE * (n * patterns * law + _reads(again, length, layers, width))
        sides = [width] * (layers + 2) + [layers * width]  # embeddings, blocks, features, all
        seconds += n * patterns * sum((d + 1) ** 2 for d in sides) * MOMENT_SECONDS
    return seconds


def _reads(rows: float, length: int, layers: int, width: int) -> float:
    """Seconds of ``rows`` reads of ``length`` tokens through ``layers`` blocks of ``width``."""
    return rows * forward_flops(width=width, layers=layers, length=length) / READ_FLOPS_PER_SECOND


def evaluation_bytes(*, n: int, length: int, vocab: int, width: int,
                     per_sequence: int = PATTERNS_PER_SEQUENCE) -> int:  # fmt: skip
    """Modelled peak bytes of one sampled evaluation: the exact laws and the network's
    conditionals of every context (float64), its hidden states, and the read-out of every
    position of a causal network.

    Parameters
    ----------
    n : int
        Held-out sequences.
    length, vocab : int
        ``T`` and ``V``.
    width : int
        ``d``.
    per_sequence : int
        ``J`` and ``G``.

    Returns
    -------
    int

    Examples
    --------
    >>> evaluation_bytes(n=20_000, length=32, vocab=50, width=32) // 2**20
    1520
    """
    contexts = 2 * per_sequence
    per = contexts * vocab * 3 + per_sequence * width * 2 + (length - 1) * (vocab + width) * 2
    return 8 * n * per + 300 * 2**20  # the JAX runtime and the compiled reads
