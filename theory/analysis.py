"""The analyses of docs/theory.md §5: context level (T2) and sample level (T2'), exact and streamed.

``analyze`` turns a source, an objective and ``k`` into the spectrum, the labeling
disagreement, the argmax probe error and its bound, plus connectivity of the graph. Every
pass reads the co-occurrence in blocks; blocks are kept in memory for the second pass only
when they fit the cache budget, and rebuilt otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace

import numpy as np
from tqdm import tqdm

from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.base.threads import thread_budget
from lookaround.theory.bounds import (
    ProbeScorer,
    label_disagreement,
    probe_bound,
    spectral_optimum,
    spectral_readout,
)
from lookaround.theory.cooccurrence import DEFAULT_CHUNK, Replay, iter_blocks, sample_stream
from lookaround.theory.costs import AUGMENTATION_MAX_SEQUENCES, CACHE_FLOATS
from lookaround.theory.graphs import (
    SupportCounter,
    WithinClassBuilder,
    augmentation_spectrum,
    effective_degree,
    support_measures,
)
from lookaround.theory.limits import check_k, check_request
from lookaround.theory.numerics import SLACK, subspace_unique
from lookaround.theory.objectives import Objective, as_objective
from lookaround.theory.presets import as_source
from lookaround.theory.sources import Source
from lookaround.theory.spectral import (
    RowChunk,
    TargetSide,
    accumulate_target_side,
    row_chunks,
    run_pass,
    target_side_pass,
)

__all__ = [
    "AUGMENTATION_MAX_SEQUENCES",
    "Analysis",
    "Connectivity",
    "EffectiveDegree",
    "LevelAnalysis",
    "analyze",
]


@dataclass(frozen=True)
class Connectivity(Presented):
    """How the two-hop graph joins its rows (docs/theory.md §6).

    Attributes
    ----------
    components : int
        Connected components of the rows of positive mass.
    support_fraction : float
        Fraction of row pairs joined by a two-hop walk.
    within_class_gap : float
        Min over classes of ``1 - lambda_2`` of the class's subgraph.
    spectral_gap : float
        ``1 - s_2^2`` (contexts) or ``1 - lambda_2`` (samples, where ``lambda_2 = s_2(Qbar)^2``
        is already a square): one minus the second eigenvalue of the level's two-hop graph.
    """

    __repr__ = short_repr

    components: int
    support_fraction: float
    within_class_gap: float
    spectral_gap: float


@dataclass(frozen=True)
class EffectiveDegree(Presented):
    """Mean ``exp(entropy)`` of a sample's two-hop law ``K(x, .)``, exact or on sampled rows.

    ``value`` and ``standard_error`` are nan (and ``rows`` 0) past the cache, where the rows of
    ``Q`` are not held; ``standard_error`` is 0 when every row was used.

    Attributes
    ----------
    value : float
        The mean effective degree.
    standard_error : float
        Its standard error over the rows used.
    rows : int
        The rows of ``Q`` it averages.
    """

    __repr__ = short_repr

    value: float
    standard_error: float
    rows: int


@dataclass(frozen=True, eq=False)
class LevelAnalysis(Presented):
    """T2 (contexts) or T2' (samples) on one two-hop graph.

    Attributes
    ----------
    level : {"context", "sample"}
        Which graph.
    k : int
        The feature dimension.
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
    targets : int
        Targets of positive mass.
    label_mass : tuple of float
        Mass of the rows whose Bayes label is each class.
    connectivity : Connectivity
    rounding_mass : float
        Mass of the rows whose probe decision the scores' rounding bound made (a tie at the
        numbers' precision, read as the smallest class): ``probe_error`` is exact if those
        ties are, and within this much of it otherwise (docs/theory.md §4.6).
    optimum : float or None
        T1's rank-``k`` minimum ``-sum_{i<=k} s_i^2`` (contexts only).
    averaged_probe_error : float or None
        Error of the probe on the averaged context features ``h(x)`` (samples only).
    averaged_rounding_mass : float or None
        ``rounding_mass`` of that probe (samples only).
    effective_degree : EffectiveDegree or None
        Samples only.
    augmentation_eigenvalues : ndarray or None
        Top ``k+1`` eigenvalues of the augmentation graph (samples, small sources only).
    """

    __repr__ = short_repr

    level: str
    k: int
    spectrum: np.ndarray
    disagreement: float
    probe_error: float
    bound: float
    rows: int
    targets: int
    label_mass: tuple[float, ...]
    connectivity: Connectivity
    rounding_mass: float = 0.0
    optimum: float | None = None
    averaged_probe_error: float | None = None
    averaged_rounding_mass: float | None = None
    effective_degree: EffectiveDegree | None = None
    augmentation_eigenvalues: np.ndarray | None = None

    @property
    def degree(self) -> EffectiveDegree:
        """The effective degree of the sample graph (the sample level only)."""
        if self.effective_degree is None:
            raise ValueError(f"the {self.level} level has no effective degree")
        return self.effective_degree

    @property
    def holds(self) -> bool:
        """Whether the measured error is within the bound (1e-12 slack for rounding)."""
        return bool(self.probe_error <= self.bound + SLACK)

    @property
    def subspace_unique(self) -> bool:
        """Whether the top-``k`` subspace is unique (``s_k > s_(k+1)``); where it is not, the
        probe error depends on the basis the eigensolver returned."""
        return subspace_unique(self.spectrum, self.k)

    def to_dict(self) -> dict:
        """The record of ``lookaround analyze --json`` (encoded by :mod:`lookaround.base.encoding`)."""
        key = "singular_values" if self.level == "context" else "eigenvalues"
        name = "phi" if self.level == "context" else "alpha"
        out = {
            key: self.spectrum.tolist(),
            name: self.disagreement,
            "probe_error": self.probe_error,
            "bound": self.bound,
            "holds": self.holds,
            "subspace_unique": self.subspace_unique,
            "rounding_mass": self.rounding_mass,
            "k": self.k,
            "rows": self.rows,
            "targets": self.targets,
            "label_mass": list(self.label_mass),
            **asdict(self.connectivity),
        }
        if self.averaged_probe_error is not None:
            out["averaged_probe_error"] = self.averaged_probe_error
            out["averaged_rounding_mass"] = self.averaged_rounding_mass
        if self.optimum is not None:
            out["optimum"] = self.optimum
        if self.effective_degree is not None:
            out["effective_degree"] = self.effective_degree.value
            out["effective_degree_se"] = self.effective_degree.standard_error
            out["effective_degree_rows"] = self.effective_degree.rows
        if self.augmentation_eigenvalues is not None:
            out["augmentation_eigenvalues"] = self.augmentation_eigenvalues.tolist()
        return out


def _shown(stream: Iterable, progress: bool, what: str) -> Iterator:
    """``stream`` behind a tqdm bar on stderr when asked (a pass can take minutes)."""
    if not progress:
        return iter(stream)
    return iter(tqdm(stream, desc=what, unit=" blocks", leave=False))


def _level(
    level: str,
    blocks: Iterable,
    k: int,
    context: TargetSide | None = None,
) -> tuple[LevelAnalysis, TargetSide]:
    """Two passes over the rows: (spectrum, labels, supports), then (probes, within-class).

    ``context`` (samples only) is the context level's target side, whose features ``Phi`` are
    read out on ``P(.|x)`` as the averaged features ``h(x)``.
    """
    if isinstance(blocks, list) and blocks and not isinstance(blocks[0], RowChunk):
        blocks = list(row_chunks(blocks))  # cached: filter and label once for both passes
    counter = SupportCounter()
    side = target_side_pass(blocks, [counter])
    values = side.singular_values(count=k + 1)
    readouts = {"spectral": spectral_readout(side, k)}
    if context is not None:
        readouts["averaged"] = spectral_readout(side, k, context)
    scorer, within = ProbeScorer(readouts), WithinClassBuilder(side)
    run_pass(blocks, [scorer, within])
    disagreement = label_disagreement(side)
    components, support = support_measures(counter, side)
    connectivity = Connectivity(
        components=components,
        support_fraction=support,
        within_class_gap=within.result(),
        spectral_gap=float(1.0 - values[1] ** 2) if values.size > 1 else 1.0,
    )
    result = LevelAnalysis(
        level=level,
        k=k,
        spectrum=values**2 if level == "sample" else values,
        disagreement=disagreement,
        probe_error=scorer.errors["spectral"],
        rounding_mass=scorer.rounding_mass["spectral"],
        bound=probe_bound(disagreement, values[k]),
        rows=side.n_rows,
        targets=int(np.sum(side.target_mass > 0)),
        label_mass=tuple(side.label_target.sum(axis=0).tolist()),
        connectivity=connectivity,
        optimum=None if level == "sample" else spectral_optimum(values, k),
        averaged_probe_error=scorer.errors.get("averaged"),
        averaged_rounding_mass=scorer.rounding_mass.get("averaged"),
    )
    return result, side


@dataclass(frozen=True, eq=False)
class Analysis(Presented):
    """Both levels for one source, objective and ``k`` (a level not asked for is None).

    Attributes
    ----------
    source, objective : str
        Their names.
    k : int
        The feature dimension.
    context, sample : LevelAnalysis or None
        The context level (T2) and the sample level (T2'); None when not asked for.
    """

    __repr__ = short_repr

    source: str
    objective: str
    k: int
    context: LevelAnalysis | None
    sample: LevelAnalysis | None

    def level(self, name: str) -> LevelAnalysis:
        """The ``"context"`` or ``"sample"`` level, which must have been computed.

        Examples
        --------
        >>> from lookaround.theory.presets import preset_source
        >>> from lookaround.theory.objectives import parse_objective
        >>> res = analyze(preset_source("topic"), parse_objective("ar", 4), k=2, level="context")
        >>> res.level("context").k
        2
        >>> res.level("sample")
        Traceback (most recent call last):
        ...
        lookaround.base.errors.InputError: the sample level was not computed (level='context')
        """
        result = {"context": self.context, "sample": self.sample}.get(name)
        if result is None:
            asked = "context" if self.sample is None else "sample"
            raise InputError(f"the {name} level was not computed (level={asked!r})")
        return result

    def to_dict(self) -> dict:
        """``{"source", "objective", "k", "context": {...}, "sample": {...}}``."""
        out = {"source": self.source, "objective": self.objective, "k": self.k}
        for level in ("context", "sample"):
            result = getattr(self, level)
            if result is not None:
                out[level] = result.to_dict()
        return out


def analyze(
    source: Source | str,
    objective: Objective | str,
    k: int,
    *,
    level: str = "both",
    chunk: int = DEFAULT_CHUNK,
    max_memory: int | None = None,
    progress: bool = False,
    threads: int | None = None,
) -> Analysis:
    """Exact T2 and T2' analysis of ``objective`` on ``source`` with ``k`` spectral features.

    Parameters
    ----------
    source : Source or str
        A source, or a name :func:`~lookaround.theory.presets.resolve_source` reads.
    objective : Objective or str
        Of the source's length ``T``, or a name :func:`parse_objective` reads at that ``T``.
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
    threads : int, optional
        Busy threads the passes may use (default: the budget in force, see
        :mod:`lookaround.base.threads`); the numbers do not depend on it.

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
    source = as_source(source)
    objective = as_objective(objective, source.length)
    with thread_budget(threads):
        return _analyze(source, objective, k, level, chunk, max_memory, progress)


def _analyze(
    source: Source, objective: Objective, k: int, level: str, chunk: int,
    max_memory: int | None, progress: bool,
) -> Analysis:  # fmt: skip
    check_k(k, source.vocab)
    if level not in ("context", "sample", "both"):
        raise InputError(f"level must be context, sample or both, got {level!r}")
    sizes = check_request(source, objective, level, chunk=chunk, max_memory=max_memory)
    built = Replay(
        lambda: _shown(iter_blocks(source, objective, chunk), progress, "context blocks")
    )
    # Cached: the rows are filtered and labelled once for both passes of a level, and the
    # blocks are kept only for the sample level's tables. Streamed: rebuilt for each pass.
    keep = sizes.cached() and level != "context"
    blocks = list(built) if keep else built

    def rows() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return ((b.cooccurrence, b.class_joint) for b in blocks)

    context_blocks = list(row_chunks(rows())) if sizes.cached() else Replay(rows)
    context = None
    if level == "sample":
        context_side = accumulate_target_side(context_blocks)  # only for the averaged features
    else:
        context, context_side = _level("context", context_blocks, k)
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
    # h(x) = sum_c P(c|x) f*(c) = P(.|x) D_t^{-1/2} V_k S_k^{-1}: averaged context features.
    result, _ = _level("sample", blocks, k, context_side)
    if cached:
        degree = EffectiveDegree(*effective_degree(np.concatenate([b[0] for b in blocks])))
    else:
        # Rows of K need every row of Q at hand; past the cache that is not held.
        degree = EffectiveDegree(float("nan"), float("nan"), 0)
    augmentation = None
    if source.vocab**source.length <= AUGMENTATION_MAX_SEQUENCES:
        augmentation = augmentation_spectrum(source, objective, k + 1)
    return replace(result, effective_degree=degree, augmentation_eigenvalues=augmentation)
