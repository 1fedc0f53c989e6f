"""``lookaround pretrain``: transformers trained per source, objective and seed, and the table
that sets the network's verdict beside the exact theory's (docs/theory.md §10).

Each run is one configuration of the sweep engine (resumable, one JSON line each, local
processes or a Dask cluster). The table compares the first objective with each other one,
per source, metric and ``k``:

- the **exact verdict**: which objective the theory favours (margin beyond 1e-9, else a tie;
  ``ambiguous`` where ``s_k = s_(k+1)`` leaves T1's map undefined);
- the **network's verdict**: the mean paired difference over seeds (both arms trained with
  the same seed) beyond 2 standard errors, else ``unresolved``;
- ``agree`` / ``disagree`` / ``unresolved`` (an exact tie agrees with an unresolved network),
  and a near-tie flag where the exact margin is below the seed noise (the paired sd).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from tqdm import tqdm

from lookaround.base.checks import check_seed
from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.simulations.architectures import architecture_config
from lookaround.simulations.engine import config_hash
from lookaround.simulations.metrics import COMPARISONS, EXACT_TOL, margin
from lookaround.simulations.pretrain import (
    ClassMetrics,
    ExactTheory,
    Population,
    PretrainEvaluation,
    SpectralFit,
    check_evaluation_size,
    evaluate,
    exact_outputs,
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
    "PRETRAIN_METRICS",
    "AgreementRow",
    "PretrainComparison",
    "PretrainMetric",
    "PretrainRequest",
    "agreement_table",
    "check_one",
    "claim_request",
    "format_agreement",
    "pretrain_one",
    "pretrain_point",
    "record",
]

DEFAULT_SOURCES = ("topic", "markov", "hmm")
DEFAULT_OBJECTIVES = ("ar", "mlm:2", "vmlm")


@dataclass(frozen=True)
class PretrainComparison:
    """Two trained objectives compared on the metrics of one ``kind`` (None: every metric).

    ``first`` is the side a claim says is better (or, without a claim, the reference).
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
            _evaluation(row)
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
    """Everything one run would refuse (settings, size, ``k``, an enumerable source), refused."""
    resolved = resolve_source(source)
    _check_run(resolved, population(resolved), objective, ks, settings)


def _check_run(
    source: Source, pop: Population, objective: str, ks: tuple[int, ...], settings: dict
) -> None:
    from lookaround.simulations.training import check_run, training_config

    for k in ks:
        check_k(k, source.vocab)
    check_run(architecture_config(settings), training_config(settings), source, objective)
    check_evaluation_size(pop, parse_objective(objective, source.length))


def claim_request(
    sources: tuple[str, ...], *, k: int, seeds: tuple[int, ...],
    settings: tuple[tuple[str, float | int | str], ...] = (),
) -> PretrainRequest:  # fmt: skip
    """The transformers that give C2-C4 their network verdicts at one setting.

    Each comparison of the claim table (:data:`lookaround.simulations.metrics.COMPARISONS`) at
    the one setting (:data:`lookaround.simulations.metrics.ONE_SETTING`: ``m = round(0.4 T)``,
    ``J = 2``), on its kind of metrics.

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
    theory = _theory(source, objective)
    outputs = network_outputs(run, theory, pop)
    return float(np.mean(run.curve[-50:])), evaluate(
        outputs, theory, pop, resolved, ks=ks, seed=seed
    )


def pretrain_point(config: dict) -> dict:
    """One configuration of the engine: train, evaluate, and return its JSON row."""
    final, result = pretrain_one(config["source"], config["objective"], ks=tuple(config["ks"]),
                                 seed=config["seed"], settings=config)  # fmt: skip
    return {"hash": config_hash(config), "config": config, "final_loss": final, **record(result)}


@functools.cache
def _theory(source_name: str, objective: str) -> ExactTheory:
    source = resolve_source(source_name)
    return exact_theory(source, parse_objective(objective, source.length), population(source))


def record(result: PretrainEvaluation) -> dict:
    """The JSON form of an evaluation (docs/json.md)."""
    out = asdict(result)
    out["excess_per_length"] = result.excess_per_length.tolist()
    return out


def _evaluation(row: dict) -> PretrainEvaluation:
    """A row read back from the results file."""

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


@dataclass(frozen=True)
class PretrainMetric:
    """A number read off a network and off the exact theory.

    ``part`` is where a :class:`PretrainEvaluation` keeps it: ``"t1"`` (T1's map, per ``k``),
    ``"raw"`` or ``"pooled"`` (hidden states; the exact side is T1's number at ``k``), or
    ``"generation"`` (the exact side is T3's excess).
    """

    key: str
    label: str
    better: str  # "lower" or "higher"
    part: str
    name: str = ""  # the ClassMetrics field of a classification metric

    @property
    def uses_k(self) -> bool:
        """Classification metrics are compared at each ``k``; generation does not use it."""
        return self.part != "generation"

    def available(self, ev: PretrainEvaluation) -> bool:
        """Whether ``ev`` has this number (the exact predictor has no hidden states)."""
        return self.part in ("t1", "generation") or getattr(ev, self.part) is not None

    def network(self, ev: PretrainEvaluation, k: int) -> float:
        if self.part == "generation":
            return ev.generation_excess
        metrics = ev.at(k) if self.part == "t1" else getattr(ev, self.part)
        return float(getattr(metrics, self.name))

    def exact(self, ev: PretrainEvaluation, theory: ExactTheory, k: int) -> float:
        if self.part == "generation":
            return theory.generation.total_excess
        return float(getattr(ev.at(k), self.name))


PRETRAIN_METRICS = (
    PretrainMetric("probe_t1", "probe error, T1 map", "lower", "t1", "probe_error"),
    PretrainMetric("ari_t1", "ARI, T1 map", "higher", "t1", "ari"),
    PretrainMetric("probe_raw", "probe error, raw pattern-averaged", "lower", "raw", "probe_error"),
    PretrainMetric("ari_raw", "ARI, raw pattern-averaged", "higher", "raw", "ari"),
    PretrainMetric(
        "probe_pooled", "probe error, raw mean-pooled", "lower", "pooled", "probe_error"
    ),
    PretrainMetric("generation", "generation excess (nats)", "lower", "generation"),
)


@dataclass(frozen=True)
class AgreementRow(Presented):
    """The exact and the network verdict of one comparison (``first`` against ``other``).

    Margins are oriented so that a positive value favours ``first``. ``k`` is None for
    metrics that do not use it; the raw-feature metrics use all hidden units on the network
    side and set the exact T1 number at ``k`` beside them.
    """

    __repr__ = short_repr

    source: str
    metric: str
    k: int | None
    first: str
    other: str
    claim: str | None
    exact_first: float
    exact_other: float
    exact_margin: float
    exact_verdict: str  # first / other / tie / ambiguous
    network_first: tuple[float, float]  # mean, sd over seeds
    network_other: tuple[float, float]
    mean_difference: float
    standard_error: float
    network_verdict: str  # first / other / unresolved
    agreement: str  # agree / disagree / unresolved / ambiguous
    near_tie: bool
    seeds: int


def _verdict_pair(exact_margin: float, diffs: np.ndarray, ambiguous: bool) -> tuple:
    exact = (
        "ambiguous" if ambiguous
        else "tie" if abs(exact_margin) <= EXACT_TOL
        else "first" if exact_margin > 0 else "other"
    )  # fmt: skip
    mean = float(np.mean(diffs))
    sd = float(np.std(diffs, ddof=1)) if diffs.size > 1 else float("nan")
    se = sd / np.sqrt(diffs.size) if diffs.size > 1 else float("nan")
    network = "first" if mean > 2 * se else "other" if mean < -2 * se else "unresolved"
    if exact == "ambiguous":
        agreement = "ambiguous"
    elif exact == network or (exact == "tie" and network == "unresolved"):
        agreement = "agree"
    else:
        agreement = "unresolved" if network == "unresolved" else "disagree"
    return exact, network, agreement, mean, se, bool(abs(exact_margin) < sd)


def agreement_table(request: PretrainRequest, rows: list[dict]) -> tuple[AgreementRow, ...]:
    """The table of ``request`` from its results rows (one per source, objective and seed).

    Examples
    --------
    >>> from lookaround.simulations.pretrain import evaluate, exact_outputs
    >>> request = PretrainRequest(sources=("topic",), objectives=("ar", "mlm:1"), seeds=(0, 1),
    ...                           ks=(2,))
    >>> rows = [{"config": {"source": "topic", "objective": o, "seed": s},
    ...          **record(evaluate(exact_outputs(_theory("topic", o)), _theory("topic", o),
    ...                            population(resolve_source("topic")), resolve_source("topic"),
    ...                            ks=(2,)))}
    ...         for o in ("ar", "mlm:1") for s in (0, 1)]
    >>> table = agreement_table(request, rows)  # the exact predictor stands in for a network
    >>> table[0].metric, table[0].exact_verdict, table[0].network_verdict, table[0].agreement
    ('probe error, T1 map', 'other', 'other', 'agree')
    """
    found = {
        (r["config"]["source"], r["config"]["objective"], r["config"]["seed"]): r for r in rows
    }
    out = []
    for source_name in request.sources:
        source = resolve_source(source_name)
        pop = population(source)
        exact = {}
        for objective in request.objectives:
            theory = _theory(source_name, objective)
            exact[objective] = (theory, evaluate(exact_outputs(theory), theory, pop, source,
                                                 ks=request.ks))  # fmt: skip
        nets = {
            o: [_evaluation(found[source_name, o, s]) for s in request.seeds]
            for o in request.objectives
        }
        for pair in request.pairs():
            for metric in PRETRAIN_METRICS:
                if pair.kind is not None and metric.uses_k != (pair.kind == "classification"):
                    continue
                if not all(metric.available(ev) for runs in nets.values() for ev in runs):
                    continue
                for k in request.ks if metric.uses_k else request.ks[:1]:
                    out.append(_row(source_name, metric, k, pair, exact, nets))
    return tuple(out)


def _spread(values: np.ndarray) -> tuple[float, float]:
    """Mean and sample sd over seeds (sd 0 for one seed)."""
    return float(np.mean(values)), float(np.std(values, ddof=1)) if values.size > 1 else 0.0


def _row(source: str, metric: PretrainMetric, k: int, pair: PretrainComparison, exact, nets):
    first, other = pair.first, pair.other
    (theory_a, ev_a), (theory_b, ev_b) = exact[first], exact[other]
    value_a, value_b = metric.exact(ev_a, theory_a, k), metric.exact(ev_b, theory_b, k)
    ambiguous = metric.uses_k and (theory_a.ambiguous(k) or theory_b.ambiguous(k))
    net_a = np.array([metric.network(ev, k) for ev in nets[first]])
    net_b = np.array([metric.network(ev, k) for ev in nets[other]])
    diffs = np.array([margin(metric.better, a, b) for a, b in zip(net_a, net_b)])
    exact_margin = margin(metric.better, value_a, value_b)
    verdicts = _verdict_pair(exact_margin, diffs, ambiguous)
    return AgreementRow(
        source, metric.label, k if metric.uses_k else None, first, other, pair.claim,
        value_a, value_b,
        exact_margin, verdicts[0], _spread(net_a), _spread(net_b), verdicts[3], verdicts[4],
        verdicts[1], verdicts[2], verdicts[5], diffs.size,
    )  # fmt: skip


def format_agreement(rows: tuple[AgreementRow, ...]) -> str:
    """The agreement table as ``lookaround pretrain`` prints it."""
    name = {
        "first": "",
        "other": "",
        "tie": "tie",
        "ambiguous": "ambiguous",
        "unresolved": "unresolved",
    }
    head = (f"{'source':<10} {'comparison':<18} {'metric':<33} {'k':>2}  {'exact (first / other)':<22}"
            f" {'exact':<10} {'network mean+-sd (first / other)':<34} {'network':<10} verdict")  # fmt: skip
    lines = [head]
    for r in rows:
        pick = lambda v, r=r: r.first if v == "first" else r.other if v == "other" else name[v]  # noqa: E731
        net = (f"{r.network_first[0]:.4f}+-{r.network_first[1]:.4f} / "
               f"{r.network_other[0]:.4f}+-{r.network_other[1]:.4f}")  # fmt: skip
        verdict = r.agreement + (" (near tie)" if r.near_tie else "")
        lines.append(
            f"{r.source:<10} {(r.claim + ' ' if r.claim else '') + r.first + ' vs ' + r.other:<18} "
            f"{r.metric:<33} "
            f"{'-' if r.k is None else r.k:>2}  {r.exact_first:.4f} / {r.exact_other:.4f}"
            f"{'':<5} {pick(r.exact_verdict):<10} {net:<34} {pick(r.network_verdict):<10} {verdict}"
        )
    counts = {
        v: sum(r.agreement == v for r in rows)
        for v in ("agree", "disagree", "unresolved", "ambiguous")
    }
    lines.append(", ".join(f"{n} {v}" for v, n in counts.items()) +
                 f" (network verdict: paired difference over {rows[0].seeds if rows else 0} seeds "
                 "beyond 2 standard errors)")  # fmt: skip
    return "\n".join(lines)
