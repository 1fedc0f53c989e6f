"""``lookaround pretrain``: transformers trained per source, objective and seed, and evaluated
against the exact theory (docs/theory.md §10).

Each run is one configuration of the sweep engine (resumable, one JSON line each, local
processes or a Dask cluster); the table that sets each network's verdict beside the exact
theory's is :mod:`lookaround.simulations.verdicts`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from tqdm import tqdm

from lookaround.base.checks import check_seed
from lookaround.base.errors import InputError
from lookaround.simulations.architectures import architecture_config
from lookaround.simulations.engine import config_hash
from lookaround.simulations.metrics import COMPARISONS
from lookaround.simulations.pretrain import (
    ClassMetrics,
    ExactTheory,
    Population,
    PretrainEvaluation,
    SpectralFit,
    check_evaluation_size,
    evaluate,
    exact_theory,
    population,
)
from lookaround.theory.limits import check_k
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import resolve_source
from lookaround.theory.sources import Source

__all__ = [
    "DEFAULT_OBJECTIVES",
    "DEFAULT_SOURCES",
    "PretrainComparison",
    "PretrainRequest",
    "check_one",
    "claim_request",
    "evaluation_of",
    "pretrain_one",
    "pretrain_point",
    "record",
    "theory_of",
]

DEFAULT_SOURCES = ("topic", "markov", "hmm")
DEFAULT_OBJECTIVES = ("ar", "mlm:2", "vmlm")


@dataclass(frozen=True)
class PretrainComparison:
    """Two trained objectives compared on the metrics of one ``kind`` (None: every metric).

    ``first`` is the side a claim says is better (or, without a claim, the reference).

    Attributes
    ----------
    first, other : str
        The two objectives compared.
    claim : str or None
        The claim of the comparison, if any.
    kind : str or None
        ``"classification"`` or ``"generation"``: the metrics it is judged on (None: all).
    """

    first: str
    other: str
    claim: str | None = None
    kind: str | None = None  # "classification" or "generation"


@dataclass(frozen=True)
class PretrainRequest:
    """Sources × objectives × seeds, the ``k`` of the comparisons, and one training setting.

    ``settings`` are fields of :class:`lookaround.simulations.transformer.TrainingConfig` and
    of the architecture's config (``architecture``, default ``transformer``; checked there). ``comparisons`` default to the first objective against each other one.

    Attributes
    ----------
    sources, objectives : tuple of str
        What is trained: every source under every objective.
    seeds : tuple of int
        Paired across objectives.
    ks : tuple of int
        The ``k`` of the T1 map compared.
    settings : tuple of (str, value)
        The training and architecture settings, by name.
    comparisons : tuple of PretrainComparison
        Default: the first objective against each other one.
    """

    sources: tuple[str, ...] = DEFAULT_SOURCES
    objectives: tuple[str, ...] = DEFAULT_OBJECTIVES
    seeds: tuple[int, ...] = (0, 1, 2)
    ks: tuple[int, ...] = (2, 3)
    settings: tuple[tuple[str, float | int | str], ...] = ()
    comparisons: tuple[PretrainComparison, ...] = ()

    def header(self) -> dict:
        """What the results file is keyed on: what is trained (not how it is compared)."""
        fields_ = ("sources", "objectives", "seeds", "ks")
        return {"pretrain": {**{f: list(getattr(self, f)) for f in fields_},
                             "settings": dict(self.settings)}}  # fmt: skip

    @property
    def point(self) -> Callable[[dict], dict]:
        """What computes one configuration's row (for :func:`~lookaround.simulations.engine.run_plan`)."""
        return pretrain_point

    def pairs(self) -> tuple[PretrainComparison, ...]:
        """The comparisons of the table."""
        first = self.objectives[0]
        return self.comparisons or tuple(PretrainComparison(first, o) for o in self.objectives[1:])

    def complete(self, row: dict) -> bool:
        """Whether a results row holds every number the table reads back from it."""
        try:
            evaluation_of(row)
        except (KeyError, TypeError, ValueError):
            return False
        return True

    def configs(self) -> list[dict]:
        """One configuration per source, objective and seed."""
        return [
            {"source": s, "objective": o, "seed": seed, "ks": list(self.ks), **dict(self.settings)}
            for s in self.sources
            for o in self.objectives
            for seed in self.seeds
        ]

    def check(self) -> None:
        """Everything a run would refuse, refused before the first one starts."""
        if len(self.objectives) < 2 or len(set(self.objectives)) < len(self.objectives):
            raise InputError(
                "objectives needs at least two distinct objectives", field="objectives"
            )
        for pair in self.pairs():
            if {pair.first, pair.other} - set(self.objectives):
                raise InputError(f"comparison {pair.first} vs {pair.other}: not trained")
        if not self.seeds or len(set(self.seeds)) < len(self.seeds):
            raise InputError("seeds needs distinct seeds", field="seeds")
        for seed in self.seeds:
            check_seed(seed, "--seeds")
        for name in self.sources:
            source = resolve_source(name)
            pop = population(source)  # enumerated once per source, not per objective
            for objective in self.objectives:
                _check_run(source, pop, objective, self.ks, dict(self.settings))
        _request_budget(self)  # after each run's own limits, which name their setting


def _request_budget(request: PretrainRequest) -> None:
    from lookaround.simulations.training import check_budget, training_config

    settings: dict = dict(request.settings)  # the values were checked with their names
    shape, config = architecture_config(settings), training_config(settings)
    each = len(request.objectives) * len(request.seeds)
    check_budget([(shape, config, resolve_source(name).length)
                  for name in request.sources] * each)  # fmt: skip


def check_one(source: str, objective: str, *, ks: tuple[int, ...], settings: dict) -> None:
    """Everything one run would refuse (settings, size, ``k``, an enumerable source), refused.

    Parameters
    ----------
    source, objective : str
        The run's source (a preset, family call or file) and objective.
    ks : tuple of int
        The ``k`` it will be evaluated at.
    settings : dict
        Its training and architecture settings.
    """
    resolved = resolve_source(source)
    _check_run(resolved, population(resolved), objective, ks, settings)


def _check_run(
    source: Source, pop: Population, objective: str, ks: tuple[int, ...], settings: dict
) -> None:
    from lookaround.simulations.training import check_run, training_config

    for k in ks:
        check_k(k, source.vocab)
    check_run(
        architecture_config(settings), training_config(settings), source=source, objective=objective
    )
    check_evaluation_size(pop, parse_objective(objective, source.length))


def claim_request(
    sources: tuple[str, ...], *, k: int, seeds: tuple[int, ...],
    settings: tuple[tuple[str, float | int | str], ...] = (),
) -> PretrainRequest:  # fmt: skip
    """The transformers that give C2-C4 their network verdicts at one setting.

    Each comparison of the claim table (:data:`lookaround.simulations.metrics.COMPARISONS`) at
    the one setting (:data:`lookaround.simulations.metrics.ONE_SETTING`: ``m = round(0.4 T)``,
    ``J = 2``), on its kind of metrics.

    Parameters
    ----------
    sources : tuple of str
        The sources.
    k : int
        The feature dimension.
    seeds : tuple of int
        Paired seeds.
    settings : tuple of (str, value)
        Training and architecture settings.

    Returns
    -------
    PretrainRequest

    Examples
    --------
    >>> r = claim_request(("markov",), k=2, seeds=(0, 1))
    >>> r.objectives, [(c.claim, c.first, c.other) for c in r.pairs()][:2]
    (('mlm:0.4', 'ar', 'dar:2', 'vmlm'), [('C2', 'mlm:0.4', 'ar'), ('C3', 'ar', 'mlm:0.4')])
    """
    pairs = tuple(PretrainComparison(*c.at_one_setting(), c.claim, c.kind) for c in COMPARISONS)
    objectives = tuple(dict.fromkeys(o for c in pairs for o in (c.first, c.other)))
    return PretrainRequest(sources, objectives, seeds, (k,), settings, pairs)


def pretrain_one(
    source: str, objective: str, *, ks: tuple[int, ...], seed: int, settings: dict,
    progress: bool = False,
) -> tuple[float, PretrainEvaluation]:  # fmt: skip
    """Train one transformer and evaluate it: its final loss (mean of the last 50 steps) and
    every population number against the exact theory.

    ``source`` is a preset name, ``NAME:SEED``, a family call or a file.

    Parameters
    ----------
    source, objective : str
        The source (a preset, family call or file) and objective.
    ks : tuple of int
        The ``k`` of the evaluation.
    seed : int
        The run's seed.
    settings : dict
        Training and architecture settings.
    progress : bool
        Show a progress bar of the steps.

    Returns
    -------
    final_loss : float
    evaluation : PretrainEvaluation
    """
    from lookaround.simulations.training import training_config
    from lookaround.simulations.transformer import network_outputs, pretrain_transformer

    config, shape = training_config(settings), architecture_config(settings)
    resolved = resolve_source(source)
    with tqdm(total=config.steps, disable=not progress, unit="step", desc=objective) as bar:

        def shown(done: int) -> None:
            bar.update(done - bar.n)

        run = pretrain_transformer(resolved, objective, config=config, architecture=shape,
                                   seed=seed, progress=shown)  # fmt: skip
    pop = population(resolved)
    theory = theory_of(source, objective)
    outputs = network_outputs(run, theory, pop)
    return float(np.mean(run.curve[-50:])), evaluate(
        outputs, theory, pop, resolved, ks=ks, seed=seed
    )


def pretrain_point(config: dict) -> dict:
    """One configuration of the engine: train, evaluate, and return its JSON row.

    Parameters
    ----------
    config : dict
        One configuration of a request (source, objective, seed, ks, settings).

    Returns
    -------
    dict
    """
    final, result = pretrain_one(config["source"], config["objective"], ks=tuple(config["ks"]),
                                 seed=config["seed"], settings=config)  # fmt: skip
    return {"hash": config_hash(config), "config": config, "final_loss": final, **record(result)}


@functools.cache
def theory_of(source_name: str, objective: str) -> ExactTheory:
    """The exact theory of ``objective`` on a source, computed once per process.

    Parameters
    ----------
    source_name : str
        A preset, family call or source file.
    objective : str
        An objective's name.

    Returns
    -------
    ExactTheory
    """
    source = resolve_source(source_name)
    return exact_theory(source, parse_objective(objective, source.length), population(source))


def record(result: PretrainEvaluation) -> dict:
    """The JSON form of an evaluation (docs/json.md).

    Parameters
    ----------
    result : PretrainEvaluation
        An evaluation.

    Returns
    -------
    dict
    """
    out = asdict(result)
    out["excess_per_length"] = result.excess_per_length.tolist()
    return out


def evaluation_of(row: dict) -> PretrainEvaluation:
    """A row read back from the results file.

    Parameters
    ----------
    row : dict
        A results row of :func:`pretrain_point`.

    Returns
    -------
    PretrainEvaluation
    """

    def metrics(value: dict | None) -> ClassMetrics | None:
        return None if value is None else ClassMetrics(**value)

    return PretrainEvaluation(
        generation_excess=row["generation_excess"],
        excess_per_length=np.asarray(row["excess_per_length"], dtype=float),
        objective_excess=row["objective_excess"],
        t1=tuple(ClassMetrics(**m) for m in row["t1"]),
        raw=metrics(row["raw"]),
        pooled=metrics(row["pooled"]),
        spectral=None if row["spectral"] is None else SpectralFit(**row["spectral"]),
    )
