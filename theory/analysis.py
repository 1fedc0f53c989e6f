"""The analyses of docs/theory.md §5: context level (T2) and sample level (T2'), exact and streamed.

``analyze`` turns a source, an objective and ``k`` into the spectrum, the labeling
disagreement, the argmax probe error and its bound, plus connectivity of the graph. Every
pass reads the co-occurrence in blocks; blocks are kept in memory for the second pass only
when they fit the cache budget, and rebuilt otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from lookaround.theory.bounds import (
    ProbeScorer,
    label_disagreement,
    probe_bound,
    probe_readout,
    spectral_features,
    spectral_optimum,
)
from lookaround.theory.cooccurrence import DEFAULT_CHUNK, Replay, iter_blocks, sample_stream
from lookaround.theory.errors import InputError
from lookaround.theory.graphs import (
    SupportCounter,
    WithinClassBuilder,
    augmentation_spectrum,
    effective_degree,
    support_measures,
)
from lookaround.theory.limits import CACHE_FLOATS, check_k, check_request
from lookaround.theory.objectives import Objective
from lookaround.theory.sources import Source
from lookaround.theory.spectral import (
    TargetSide,
    TargetSideBuilder,
    accumulate_target_side,
    run_pass,
)

AUGMENTATION_MAX_SEQUENCES = 5_000  # Lanczos on the incidence costs seconds past this


@dataclass(frozen=True, eq=False)
class LevelAnalysis:
    """T2 (contexts) or T2' (samples) on one two-hop graph.

    Attributes
    ----------
    spectrum : ndarray
        ``s_1 >= s_2 >= ...`` of ``Abar`` (contexts) or ``lam_i = s_i(Qbar)^2`` of the
        normalized sample graph (samples), zero-padded to at least ``k+1``.
    disagreement : float
        ``phi`` (contexts) or ``alpha`` (samples).
    probe_error : float
        Weighted argmax error of the least-squares probe on the top-``k`` spectral features.
    bound : float
        ``2 phi / (1 - s_{k+1}^2)`` or ``2 alpha / (1 - lam_{k+1})``.
    rows : int
        Contexts or samples of positive mass.
    extra : dict
        Connectivity measures and level-specific numbers.
    """

    level: str
    k: int
    spectrum: np.ndarray
    disagreement: float
    probe_error: float
    bound: float
    rows: int
    extra: dict = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        """Whether the measured error is within the bound (1e-12 slack for rounding)."""
        return bool(self.probe_error <= self.bound + 1e-12)

    def to_dict(self) -> dict:
        """The record of ``lookaround analyze --json`` (encoded by :mod:`lookaround.theory.encoding`)."""
        key = "singular_values" if self.level == "context" else "eigenvalues"
        name = "phi" if self.level == "context" else "alpha"
        out = {
            key: self.spectrum.tolist(),
            name: self.disagreement,
            "probe_error": self.probe_error,
            "bound": self.bound,
            "holds": self.holds,
            "k": self.k,
            "rows": self.rows,
        }
        out.update(self.extra)
        return out


def _shown(stream: Iterable, progress: bool, what: str) -> Iterable:
    """``stream`` behind a tqdm bar on stderr when asked (a pass can take minutes)."""
    if not progress:
        return stream
    from tqdm import tqdm

    return tqdm(stream, desc=what, unit=" blocks", leave=False)


def _level(
    level: str,
    blocks: Iterable,
    k: int,
    extra_readouts: Callable[[TargetSide], dict],
    squared: bool,
) -> tuple[LevelAnalysis, TargetSide]:
    """Two passes over the rows: (spectrum, labels, supports), then (probes, within-class)."""
    builder, counter = TargetSideBuilder(), SupportCounter()
    run_pass(blocks, [builder, counter])
    side = builder.result()
    values = side.singular_values(count=k + 1)
    readouts = {"spectral": probe_readout(side, spectral_features(side, k)), **extra_readouts(side)}
    scorer, within = ProbeScorer(readouts), WithinClassBuilder(side)
    run_pass(blocks, [scorer, within])
    disagreement = label_disagreement(side)
    components, support = support_measures(counter, side)
    extra = {
        "targets": int(np.sum(side.target_mass > 0)),
        "label_mass": side.label_target.sum(axis=0).tolist(),
        "components": components,
        "support_fraction": support,
        "within_class_gap": within.result(),
        "spectral_gap": float(1.0 - values[1] ** 2) if values.size > 1 else 1.0,
    }
    extra.update(
        {f"{name}_probe_error": scorer.errors[name] for name in readouts if name != "spectral"}
    )
    result = LevelAnalysis(
        level,
        k,
        values**2 if squared else values,
        disagreement,
        scorer.errors["spectral"],
        probe_bound(disagreement, values[k]),
        side.n_rows,
        extra,
    )
    return result, side


@dataclass(frozen=True, eq=False)
class Analysis:
    """Both levels for one source, objective and ``k`` (a level not asked for is None)."""

    source: str
    objective: str
    k: int
    context: LevelAnalysis | None
    sample: LevelAnalysis | None

    def to_dict(self) -> dict:
        """``{"source", "objective", "k", "context": {...}, "sample": {...}}``."""
        out = {"source": self.source, "objective": self.objective, "k": self.k}
        for level in ("context", "sample"):
            result = getattr(self, level)
            if result is not None:
                out[level] = result.to_dict()
        return out


def analyze(
    source: Source,
    objective: Objective,
    k: int,
    level: str = "both",
    chunk: int = DEFAULT_CHUNK,
    max_memory: int | None = None,
    progress: bool = False,
) -> Analysis:
    """Exact T2 and T2' analysis of ``objective`` on ``source`` with ``k`` spectral features.

    Parameters
    ----------
    source, objective
        Of the same length ``T``.
    k : int
        Feature dimension, ``1 <= k <= V``; ``s_{k+1}`` is 0 past the rank.
    level : {"context", "sample", "both"}
    chunk : int
        Memory bound (floats) of one co-occurrence block.
    max_memory : int, optional
        Bytes; a request estimated above it is refused before it starts
        (default: :func:`lookaround.theory.limits.default_max_memory`).
    progress : bool
        Show a progress bar of the blocks of each pass on stderr.

    Returns
    -------
    Analysis

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> res = analyze(preset_source("topic"), parse_objective("mlm:2", 4), k=2)
    >>> res.context.holds and res.sample.holds
    True
    >>> round(float(res.context.spectrum[0]), 12)
    1.0
    """
    check_k(k, source.vocab)
    if level not in ("context", "sample", "both"):
        raise InputError(f"level must be context, sample or both, got {level!r}")
    sizes = check_request(source, objective, level, chunk, max_memory)
    built = Replay(
        lambda: _shown(iter_blocks(source, objective, chunk), progress, "context blocks")
    )
    blocks = list(built) if sizes.cached() else built
    context_blocks = Replay(lambda: ((b.cooccurrence, b.class_joint) for b in blocks))
    context = None
    if level == "sample":
        context_side = accumulate_target_side(context_blocks)  # only for the averaged features
    else:
        context, context_side = _level("context", context_blocks, k, lambda side: {}, squared=False)
        context.extra["optimum"] = spectral_optimum(context.spectrum, k)
    sample = None
    if level in ("sample", "both"):
        sample = _sample_level(source, objective, k, context_side, blocks)
    return Analysis(source.name, objective.name, k, context, sample)


def _sample_level(
    source: Source, objective: Objective, k: int, context_side: TargetSide, blocks: Iterable
) -> LevelAnalysis:
    stream = sample_stream(source, objective, blocks=blocks)
    cached = source.vocab**source.length * (source.vocab + source.n_classes) <= CACHE_FLOATS
    blocks = (
        [(q, cj) for _, q, cj in stream]
        if cached
        else Replay(lambda: ((q, cj) for _, q, cj in stream))
    )

    def averaged(side: TargetSide) -> dict:
        # h(x) = sum_c P(c|x) f*(c) = P(.|x) D_t^{-1/2} V_k S_k^{-1}: averaged context features.
        return {"averaged": probe_readout(side, spectral_features(context_side, k))}

    result, _ = _level("sample", blocks, k, averaged, squared=True)
    if cached:
        q = np.concatenate([b[0] for b in blocks])
        degree, error, used = effective_degree(q)
    else:
        # Rows of K need every row of Q at hand; past the cache that is not held.
        degree, error, used = float("nan"), float("nan"), 0
    result.extra.update(
        {"effective_degree": degree, "effective_degree_se": error, "effective_degree_rows": used}
    )
    if source.vocab**source.length <= AUGMENTATION_MAX_SEQUENCES:
        spectrum = augmentation_spectrum(source, objective, k + 1)
        result.extra["augmentation_eigenvalues"] = spectrum.tolist()
    return result
