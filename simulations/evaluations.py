"""How networks are judged: the evaluation modes of ``pretrain`` and their sizes.

Kept apart from :mod:`lookaround.simulations.sampled` so that the command line's parser reads
its choices and defaults without importing scikit-learn.
"""

from __future__ import annotations

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

# Fitted on this 2-core machine (benchmarks/sampled_sizing.py): the exact laws of one context
# by forward-backward, per T r H^2; one network read, per floating-point operation; one probe
# and one ARI with their bootstraps, per sequence and per feature.
LAW_SECONDS = 4.3e-9
READ_FLOPS_PER_SECOND = 1.4e10
METRIC_SECONDS, METRIC_FEATURE_SECONDS = 1.2e-4, 1.0e-5
# The belief maps (``belief``): their laws and reads cost this share of the evaluation's per
# unit (no head, no prefix rows), and their moments this much per context and squared feature.
BELIEF_DISCOUNT, MOMENT_SECONDS = 0.5, 1e-9


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
    78
    """
    patterns, lengths = min(per_sequence, length * 8), min(per_sequence, length - 1)
    laws = n * (patterns + 1) * length * classes * states**2 * LAW_SECONDS
    rows = n * (2 if causal else patterns + lengths + 1)  # a causal read's head is per position
    reads = (
        rows * 2 * length * layers * (12 * width**2 + 2 * length * width) / READ_FLOPS_PER_SECOND
    )
    features = [*ks, width + 1, width + 1]
    metrics = sum(n * (METRIC_SECONDS + METRIC_FEATURE_SECONDS * d) for d in features)
    if belief:
        again = n * (1 if causal else patterns)  # rows a belief pass reads
        belief_s = BELIEF_DISCOUNT * (
            n * patterns * length * classes * states**2 * LAW_SECONDS
            + again
            * 2
            * length
            * layers
            * (12 * width**2 + 2 * length * width)
            / READ_FLOPS_PER_SECOND
        )
        sides = [width] * (layers + 2) + [
            layers * width
        ]  # embeddings, blocks, features, all blocks
        metrics += belief_s + n * patterns * sum((d + 1) ** 2 for d in sides) * MOMENT_SECONDS
    return laws + reads + metrics


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
