"""``lookaround pretrain``: transformers trained per source, objective and seed, and evaluated
against the exact theory (docs/theory.md §10).

Each run is one configuration of the sweep engine (resumable, one JSON line each, local
processes or a Dask cluster); the table that sets each network's verdict beside the exact
theory's is :mod:`lookaround.simulations.verdicts`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from lookaround.base.checks import check_count, check_seed
from lookaround.base.errors import InputError
from lookaround.simulations.architectures import TransformerConfig, architecture_config
from lookaround.simulations.engine import config_hash
from lookaround.simulations.evaluations import (
    EVALUATION_SEQUENCES,
    EVALUATIONS,
    MAX_EVAL_SEQUENCES,
    MIN_EVAL_SEQUENCES,
    PATTERNS_PER_SEQUENCE,
    evaluation_bytes,
    evaluation_seconds,
)
from lookaround.simulations.metrics import COMPARISONS
from lookaround.simulations.pretrain import (
    MAX_EVALUATION_ROWS,
    ExactTheory,
    Population,
    PretrainEvaluation,
    check_evaluation_size,
    evaluate,
    exact_theory,
    population,
)
from lookaround.simulations.records import evaluation_of, record
from lookaround.simulations.sampled import SampledTheory, sampled_theory
from lookaround.theory.feature_maps import FeatureMapEstimate, feature_map_estimate
from lookaround.theory.limits import check_k, default_max_memory
from lookaround.theory.objectives import name_pattern_count, parse_objective
from lookaround.theory.pattern_laws import pattern_law
from lookaround.theory.presets import resolve_source
from lookaround.theory.sources import Source

__all__ = [
    "DEFAULT_OBJECTIVES",
    "DEFAULT_SOURCES",
    "PretrainComparison",
    "PretrainRequest",
    "check_one",
    "claim_request",
    "evaluation_mode",
    "feature_map_of",
    "pretrain_one",
    "pretrain_point",
    "sampled_theory_of",
    "theory_of",
]

DEFAULT_SOURCES = ("topic", "markov", "hmm")
DEFAULT_OBJECTIVES = ("ar", "mlm:2", "vmlm")


def evaluation_mode(source: Source, objectives: tuple[str, ...], requested: str = "auto") -> str:
    """``"exact"`` where the population can be enumerated and read through a network, else
    ``"sampled"``; ``requested`` forces one (``exact`` is refused past enumeration).

    Parameters
    ----------
    source : Source
        The source.
    objectives : tuple of str
        The objectives trained on it.
    requested : {"auto", "exact", "sampled"}
        What the caller asked for.

    Returns
    -------
    str

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> evaluation_mode(preset_source("markov"), ("ar",)), evaluation_mode(preset_source("ginc"), ("ar",))
    ('exact', 'sampled')
    """
    if requested not in EVALUATIONS:
        raise InputError(f"evaluation must be one of {', '.join(EVALUATIONS)}, got {requested!r}",
                         field="evaluation")  # fmt: skip
    sequences = source.vocab**source.length
    rows = max(sequences * (name_pattern_count(o, source.length) + source.length - 1)
               for o in objectives)  # fmt: skip
    enumerable = sequences <= 10**6 and rows <= MAX_EVALUATION_ROWS
    if requested == "exact" and not enumerable:
        raise InputError(
            f"evaluation exact enumerates the population of {source.name} (V^T = "
            f"{source.vocab}^{source.length}, {rows:.3g} contexts read; at most 10^6 sequences "
            f"and {MAX_EVALUATION_ROWS:,} contexts): use sampled", field="evaluation")  # fmt: skip
    if requested == "auto":
        return "exact" if enumerable else "sampled"
    return requested


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
    evaluation : {"auto", "exact", "sampled"}
        How networks are judged (:func:`evaluation_mode`; ``auto``: exact where enumerable).
    eval_sequences : int
        Held-out sequences of a sampled evaluation.
    widths : tuple of int
        Widths trained side by side, each a block of the table (empty: the settings' one).
    belief : bool
        Measure every network's belief geometry too (:mod:`lookaround.simulations.beliefs`).
    """

    sources: tuple[str, ...] = DEFAULT_SOURCES
    objectives: tuple[str, ...] = DEFAULT_OBJECTIVES
    seeds: tuple[int, ...] = (0, 1, 2)
    ks: tuple[int, ...] = (2, 3)
    settings: tuple[tuple[str, float | int | str], ...] = ()
    comparisons: tuple[PretrainComparison, ...] = ()
    evaluation: str = "auto"
    eval_sequences: int = EVALUATION_SEQUENCES
    widths: tuple[int, ...] = ()
    belief: bool = False

    def header(self) -> dict:
        """What the results file is keyed on: what is trained and how it is judged (not how
        it is compared); what a request leaves at its default is left out, as earlier
        releases wrote it."""
        fields_ = ("sources", "objectives", "seeds", "ks")
        out = {**{f: list(getattr(self, f)) for f in fields_}, "settings": dict(self.settings)}
        if (self.evaluation, self.eval_sequences) != ("auto", EVALUATION_SEQUENCES):
            out.update(evaluation=self.evaluation, eval_sequences=self.eval_sequences)
        if self.widths:
            out.update(widths=list(self.widths))
        if self.belief:
            out.update(belief=True)
        return {"pretrain": out}

    def shapes(self) -> list[dict]:
        """The settings of each width trained (one entry without ``widths``)."""
        base = dict(self.settings)
        return [{**base, "width": w} for w in self.widths] if self.widths else [base]

    def mode(self, source: str) -> str:
        """``"exact"`` or ``"sampled"``: how the networks trained on ``source`` are judged."""
        return evaluation_mode(resolve_source(source), self.objectives, self.evaluation)

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
        """One configuration per source, objective and seed (a sampled one says so)."""
        sampled = {s: {"eval_sequences": self.eval_sequences} for s in self.sources
                   if self.mode(s) == "sampled"}  # fmt: skip
        belief = {"belief": True} if self.belief else {}
        return [
            {
                "source": s,
                "objective": o,
                "seed": seed,
                "ks": list(self.ks),
                **shape,
                **belief,
                **sampled.get(s, {}),
            }  # fmt: skip
            for s in self.sources
            for shape in self.shapes()
            for o in self.objectives
            for seed in self.seeds
        ]

    def check(self) -> float:
        """Everything a run would refuse, refused before the first one starts; the request's
        modelled seconds on one process."""
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
            check_seed(seed, "seeds")
        check_count(
            self.eval_sequences,
            "eval_sequences",
            low=MIN_EVAL_SEQUENCES,
            high=MAX_EVAL_SEQUENCES,
            what="held-out sequences, each context's law held",
        )
        if len(set(self.widths)) < len(self.widths):
            raise InputError("width needs distinct widths", field="width")
        if self.widths and "width" in dict(self.settings):
            raise InputError("width is set twice: give one width setting or a list of widths",
                             field="width")  # fmt: skip
        for name in self.sources:
            source = resolve_source(name)
            # enumerated once per source, not per objective
            pop = population(source) if self.mode(name) == "exact" else None
            for objective in self.objectives:
                for shape in self.shapes():
                    _check_run(source, pop, objective, self.ks, shape)
            if self.belief:
                for shape in self.shapes():
                    _check_belief(source, architecture_config(shape), self.mode(name) == "sampled")
        return _request_budget(self)  # after each run's own limits, which name their setting


def _request_budget(request: PretrainRequest) -> float:
    from lookaround.simulations.training import check_budget, training_config

    each = len(request.objectives) * len(request.seeds)
    runs, sampled = [], 0.0
    for settings in request.shapes():  # the values were checked with their names
        shape, config = architecture_config(settings), training_config(settings)
        runs += [(shape, config, resolve_source(name).length) for name in request.sources] * each
        sampled += sum(_sampled_seconds(request, name, shape) for name in request.sources)
    return check_budget(runs, evaluation=sampled)


def _sampled_seconds(request: PretrainRequest, name: str, shape) -> float:
    """Modelled seconds of the sampled evaluations of ``name``'s networks and theory; its
    memory refused first."""
    if request.mode(name) == "exact":
        return 0.0
    source, n = resolve_source(name), request.eval_sequences
    need = evaluation_bytes(n=n, length=source.length, vocab=source.vocab, width=shape.width)
    if need > default_max_memory():
        raise InputError(
            f"eval_sequences {n}: a sampled evaluation on {name} holds about {need / 2**30:.1f} "
            f"GB, over the {default_max_memory() / 2**30:.1f} GB allowed; use fewer",
            field="eval_sequences")  # fmt: skip
    size = {"n": n, "length": source.length, "classes": source.n_classes,
            "states": source.init.shape[1], "ks": request.ks}  # fmt: skip
    total = 0.0
    for objective in request.objectives:
        causal = pattern_law(objective, source.length).causal
        network = evaluation_seconds(**size, width=shape.width, layers=shape.layers, causal=causal,
                                     belief=request.belief)  # fmt: skip
        theory = evaluation_seconds(**size, width=0, layers=0, causal=True)  # no network read
        total += network * len(request.seeds) + theory
    return total


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
    sampled = "eval_sequences" in settings
    _check_run(resolved, None if sampled else population(resolved), objective, ks, settings)


def _check_run(
    source: Source, pop: Population | None, objective: str, ks: tuple[int, ...], settings: dict
) -> None:
    from lookaround.simulations.training import check_run, training_config

    for k in ks:
        check_k(k, source.vocab)
    check_run(
        architecture_config(settings), training_config(settings), source=source, objective=objective
    )
    if pop is not None:  # a sampled evaluation reads a fixed number of contexts
        check_evaluation_size(pop, parse_objective(objective, source.length))


def _check_belief(source: Source, shape: TransformerConfig, sampled: bool) -> None:
    """The belief maps' moments within the memory allowed, or one line naming ``belief``."""
    from lookaround.simulations.beliefs import belief_bytes

    outputs = source.n_classes * (1 + source.init.shape[1])
    need = belief_bytes(width=shape.width, layers=shape.layers, features=shape.feature_width,
                        outputs=outputs, sampled=sampled)  # fmt: skip
    if need > default_max_memory():
        raise InputError(
            f"belief needs about {need / 2**20:,.0f} MB for the maps' moments at width "
            f"{shape.width} and {shape.layers} layers, over the "
            f"{default_max_memory() / 2**20:,.0f} MB allowed; use a smaller width or fewer layers",
            field="belief")  # fmt: skip


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
    from lookaround.simulations.transformer import pretrain_transformer

    config, shape = training_config(settings), architecture_config(settings)
    resolved = resolve_source(source)
    with tqdm(total=config.steps, disable=not progress, unit="step", desc=objective) as bar:

        def shown(done: int) -> None:
            bar.update(done - bar.n)

        run = pretrain_transformer(resolved, objective, config=config, architecture=shape,
                                   seed=seed, progress=shown)  # fmt: skip
    final = float(np.mean(run.curve[-50:]))
    if "eval_sequences" in settings:
        return final, _judged_sampled(run, source, objective, ks, seed, settings)
    from lookaround.simulations.transformer import network_outputs

    pop, theory = population(resolved), theory_of(source, objective)
    result = evaluate(network_outputs(run, theory, pop), theory, pop, resolved, ks=ks, seed=seed)
    if not settings.get("belief"):
        return final, result
    from lookaround.simulations.beliefs import belief_geometry
    from lookaround.simulations.transformer import context_layers

    geometry = belief_geometry(lambda *a: context_layers(run, *a), resolved, theory.objective,
                               pop.tokens, pop.mass, seed=seed)  # fmt: skip
    return final, dataclasses.replace(result, belief=geometry)


def _judged_sampled(
    run, source: str, objective: str, ks, seed: int, settings: dict
) -> PretrainEvaluation:
    """A trained network on the held-out sequences of its seed, through the map of
    :func:`feature_map_of` (and its belief geometry on the same draws, with ``belief``)."""
    from lookaround.simulations.sampled import draw_evaluation, evaluate_sampled
    from lookaround.simulations.transformer import context_layers, sampled_outputs

    n = settings["eval_sequences"]
    resolved = resolve_source(source)
    draws = draw_evaluation(resolved, objective, n=n, seed=seed)
    estimate = feature_map_of(source, objective, n)
    result = evaluate_sampled(sampled_outputs(run, draws), draws, estimate, ks=ks, seed=seed)
    if not settings.get("belief"):
        return result
    from lookaround.simulations.beliefs import sampled_belief_geometry

    geometry = sampled_belief_geometry(
        lambda *a: context_layers(run, *a), resolved, draws.tokens, visible=draws.visible,
        target=draws.target, weights=draws.weights, seed=seed,
    )  # fmt: skip
    return dataclasses.replace(result, belief=geometry)


@functools.cache
def feature_map_of(source_name: str, objective: str, n: int) -> FeatureMapEstimate:
    """T1's map of a sampled evaluation, from ``n`` Monte Carlo contexts of seed 0, computed
    once per process.

    Parameters
    ----------
    source_name : str
        A preset, family call or source file.
    objective : str
        An objective's name.
    n : int
        Contexts drawn.

    Returns
    -------
    FeatureMapEstimate
    """
    return feature_map_estimate(resolve_source(source_name), objective, n=n, seed=0)


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


@functools.cache
def sampled_theory_of(
    source_name: str, objective: str, n: int, ks: tuple[int, ...]
) -> SampledTheory:
    """The theory's side of a sampled evaluation, computed once per process: T1's map from
    ``n`` Monte Carlo contexts, and the exact conditionals on ``n`` held-out sequences (seed 0).

    Parameters
    ----------
    source_name : str
        A preset, family call or source file.
    objective : str
        An objective's name.
    n : int
        Contexts of the map, and held-out sequences.
    ks : tuple of int
        The ``k`` of the T1 map.

    Returns
    -------
    SampledTheory
    """
    return sampled_theory(resolve_source(source_name), objective, n=n, ks=ks,
                          per_sequence=PATTERNS_PER_SEQUENCE,
                          feature_map=feature_map_of(source_name, objective, n))  # fmt: skip
