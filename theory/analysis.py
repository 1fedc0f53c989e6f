"""The analyses of docs/theory.md §5: context level (T2) and sample level (T2'), exact and streamed.

``analyze`` turns a source, an objective and ``k`` into the spectrum, the labeling
disagreement, the argmax probe error and its bound, plus connectivity of the graph. Every
pass reads the co-occurrence in blocks (on chain sources with many contexts a pattern, as
``u(c) M_b`` by Markov blanket: :mod:`lookaround.theory.blankets`); blocks are kept in memory
for the second pass only when they fit the cache budget, and rebuilt otherwise.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import ClassVar, Literal, overload

import numpy as np
from tqdm import tqdm

from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.base.threads import thread_budget
from lookaround.theory.blankets import context_chunks
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
    Chunk,
    TargetSide,
    accumulate_target_side,
    as_chunks,
    row_chunks,
    run_pass,
    target_side_pass,
)

__all__ = [
    "AUGMENTATION_MAX_SEQUENCES",
    "Analysis",
    "Connectivity",
    "EffectiveDegree",
    "ContextLevel",
    "LevelAnalysis",
    "SampleLevel",
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


@dataclass(frozen=True, eq=False, kw_only=True)
class LevelAnalysis(Presented):
    """T2 (contexts, :class:`ContextLevel`) or T2' (samples, :class:`SampleLevel`) on one
    two-hop graph: what both levels share.

    Attributes
    ----------
    k : int
        The feature dimension.
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
    """

    __repr__ = short_repr
    level: ClassVar[str]
    # the JSON names of the level's spectrum and disagreement (docs/json.md)
    spectrum_name: ClassVar[str]
    disagreement_name: ClassVar[str]

    k: int
    probe_error: float
    bound: float
    rows: int
    targets: int
    label_mass: tuple[float, ...]
    connectivity: Connectivity
    rounding_mass: float = 0.0

    def _values(self) -> np.ndarray:
        return getattr(self, self.spectrum_name)

    def _measure(self) -> float:
        return getattr(self, self.disagreement_name)

    @property
    def spectrum(self) -> np.ndarray:
        """Deprecated: ``singular_values`` (contexts) or ``eigenvalues`` (samples)."""
        _renamed("spectrum", self.spectrum_name)
        return self._values()

    @property
    def disagreement(self) -> float:
        """Deprecated: ``phi`` (contexts) or ``alpha`` (samples)."""
        _renamed("disagreement", self.disagreement_name)
        return self._measure()

    @property
    def holds(self) -> bool:
        """Whether the measured error is within the bound (1e-12 slack for rounding)."""
        return bool(self.probe_error <= self.bound + SLACK)

    @property
    def subspace_unique(self) -> bool:
        """Whether the top-``k`` subspace is unique (``s_k > s_(k+1)``); where it is not, the
        probe error depends on the basis the eigensolver returned."""
        return subspace_unique(self._values(), self.k)

    def to_dict(self) -> dict:
        """The record of ``lookaround analyze --json`` (encoded by :mod:`lookaround.base.encoding`)."""
        out = {
            self.spectrum_name: self._values().tolist(),
            self.disagreement_name: self._measure(),
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
        return out | {key: v for key, v in self._extras().items() if v is not None}

    def _extras(self) -> dict:
        return {}


def _renamed(old: str, new: str) -> None:
    warnings.warn(
        f"LevelAnalysis.{old} is deprecated and will be removed in 0.3; use .{new}, the name "
        "the JSON, summary() and to_frame() print",
        DeprecationWarning,
        stacklevel=3,
    )


@dataclass(frozen=True, eq=False, kw_only=True, repr=False)
class ContextLevel(LevelAnalysis):
    """T2 on the two-hop context graph (docs/theory.md §5.1), with the fields of
    :class:`LevelAnalysis`.

    Attributes
    ----------
    k, probe_error, bound, rows, targets, label_mass, connectivity, rounding_mass
        As in :class:`LevelAnalysis`.
    singular_values : ndarray
        ``s_1 >= s_2 >= ...`` of ``Abar``, zero-padded to at least ``k+1``.
    phi : float
        The labeling disagreement ``phi``.
    optimum : float
        T1's rank-``k`` minimum ``-sum_{i<=k} s_i^2``.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> ctx = analyze(preset_source("topic"), "ar", 2, level="context").context
    >>> round(ctx.phi, 4), round(float(ctx.singular_values[1]), 4)
    (0.3905, 0.3219)
    """

    level = "context"
    spectrum_name = "singular_values"
    disagreement_name = "phi"

    singular_values: np.ndarray
    phi: float
    optimum: float

    def _extras(self) -> dict:
        return {"optimum": self.optimum}


@dataclass(frozen=True, eq=False, kw_only=True, repr=False)
class SampleLevel(LevelAnalysis):
    """T2' on the normalized sample graph (docs/theory.md §5.2), with the fields of
    :class:`LevelAnalysis`.

    Attributes
    ----------
    k, probe_error, bound, rows, targets, label_mass, connectivity, rounding_mass
        As in :class:`LevelAnalysis`.
    eigenvalues : ndarray
        ``lam_i = s_i(Qbar)^2`` of the normalized sample graph, zero-padded to at least ``k+1``.
    alpha : float
        The labeling disagreement ``alpha``.
    averaged_probe_error : float
        Error of the probe on the averaged context features ``h(x)``.
    averaged_rounding_mass : float
        ``rounding_mass`` of that probe.
    effective_degree : EffectiveDegree
        Mean ``exp(entropy)`` of ``K(x, .)``.
    augmentation_eigenvalues : ndarray or None
        Top ``k+1`` eigenvalues of the augmentation graph (small sources only).

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> smp = analyze(preset_source("topic"), "ar", 2, level="sample").sample
    >>> smp.holds, round(smp.alpha, 4), round(float(smp.eigenvalues[1]), 4)
    (True, 0.4672, 0.0847)
    """

    level = "sample"
    spectrum_name = "eigenvalues"
    disagreement_name = "alpha"

    eigenvalues: np.ndarray
    alpha: float
    averaged_probe_error: float
    averaged_rounding_mass: float
    effective_degree: EffectiveDegree
    augmentation_eigenvalues: np.ndarray | None = None

    def _extras(self) -> dict:
        degree = self.effective_degree
        return {
            "averaged_probe_error": self.averaged_probe_error,
            "averaged_rounding_mass": self.averaged_rounding_mass,
            "effective_degree": degree.value,
            "effective_degree_se": degree.standard_error,
            "effective_degree_rows": degree.rows,
            "augmentation_eigenvalues": None
            if self.augmentation_eigenvalues is None
            else self.augmentation_eigenvalues.tolist(),
        }


def _shown(stream: Iterable, progress: bool, what: str) -> Iterator:
    """``stream`` behind a tqdm bar on stderr when asked (a pass can take minutes)."""
    if not progress:
        return iter(stream)
    return iter(tqdm(stream, desc=what, unit=" blocks", leave=False))


@dataclass(frozen=True)
class _Passes:
    """What the two passes over one level's rows found, before it becomes a level."""

    common: dict
    values: np.ndarray  # s_i of the level's normalized matrix
    disagreement: float
    scorer: ProbeScorer
    side: TargetSide


def _passes(blocks: Iterable, k: int, context: TargetSide | None = None) -> _Passes:
    """Two passes over the rows: (spectrum, labels, supports), then (probes, within-class).

    ``context`` (samples only) is the context level's target side, whose features ``Phi`` are
    read out on ``P(.|x)`` as the averaged features ``h(x)``.
    """
    if isinstance(blocks, list) and blocks and not isinstance(blocks[0], Chunk):
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
    common = dict(
        k=k,
        probe_error=scorer.errors["spectral"],
        rounding_mass=scorer.rounding_mass["spectral"],
        bound=probe_bound(disagreement, values[k]),
        rows=side.n_rows,
        targets=int(np.sum(side.target_mass > 0)),
        label_mass=tuple(side.label_target.sum(axis=0).tolist()),
        connectivity=connectivity,
    )
    return _Passes(common, values, disagreement, scorer, side)


def _context_level(blocks: Iterable, k: int) -> tuple[ContextLevel, TargetSide]:
    found = _passes(blocks, k)
    optimum = spectral_optimum(found.values, k)
    level = ContextLevel(
        singular_values=found.values, phi=found.disagreement, optimum=optimum, **found.common
    )
    return level, found.side


@dataclass(frozen=True, eq=False)
class Analysis(Presented):
    """Both levels for one source, objective and ``k`` (a level not asked for is None).

    Attributes
    ----------
    source, objective : str
        Their names.
    k : int
        The feature dimension.
    context : ContextLevel or None
        The context level (T2); None when not asked for.
    sample : SampleLevel or None
        The sample level (T2'); None when not asked for.
    """

    __repr__ = short_repr

    source: str
    objective: str
    k: int
    context: ContextLevel | None
    sample: SampleLevel | None

    @overload
    def level(self, name: Literal["context"]) -> ContextLevel: ...
    @overload
    def level(self, name: Literal["sample"]) -> SampleLevel: ...
    @overload
    def level(self, name: str) -> LevelAnalysis: ...
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
    >>> round(float(res.context.singular_values[0]), 12)
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
    built = Replay(lambda: iter_blocks(source, objective, chunk))
    # Cached: the rows are filtered and labelled once for both passes of a level, and the
    # blocks are kept only for the sample level's tables. Streamed: rebuilt for each pass.
    keep = sizes.cached() and level != "context"
    blocks = list(built) if keep else built

    def rows() -> Iterator:
        return _shown(context_chunks(source, objective, blocks, chunk=chunk), progress, "chunks")

    context_blocks = list(as_chunks(rows())) if sizes.cached() else Replay(rows)
    context = None
    if level == "sample":
        context_side = accumulate_target_side(context_blocks)  # only for the averaged features
    else:
        context, context_side = _context_level(context_blocks, k)
    sample = None
    if level in ("sample", "both"):
        sample = _sample_level(source, objective, k, context_side, blocks)
    return Analysis(source.name, objective.name, k, context, sample)


def _sample_level(
    source: Source, objective: Objective, k: int, context_side: TargetSide, blocks: Iterable
) -> SampleLevel:
    stream = sample_stream(source, objective, blocks=blocks)
    cached = source.vocab**source.length * (source.vocab + source.n_classes) <= CACHE_FLOATS
    blocks = (
        [(q, cj) for _, q, cj in stream]
        if cached
        else Replay(lambda: ((q, cj) for _, q, cj in stream))
    )
    # h(x) = sum_c P(c|x) f*(c) = P(.|x) D_t^{-1/2} V_k S_k^{-1}: averaged context features.
    found = _passes(blocks, k, context_side)
    if cached:
        degree = EffectiveDegree(*effective_degree(np.concatenate([b[0] for b in blocks])))
    else:
        # Rows of K need every row of Q at hand; past the cache that is not held.
        degree = EffectiveDegree(float("nan"), float("nan"), 0)
    augmentation = None
    if source.vocab**source.length <= AUGMENTATION_MAX_SEQUENCES:
        augmentation = augmentation_spectrum(source, objective, k + 1)
    return SampleLevel(
        eigenvalues=found.values**2,
        alpha=found.disagreement,
        averaged_probe_error=found.scorer.errors["averaged"],
        averaged_rounding_mass=found.scorer.rounding_mass["averaged"],
        effective_degree=degree,
        augmentation_eigenvalues=augmentation,
        **found.common,
    )
