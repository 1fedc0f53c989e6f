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
from dataclasses import asdict, dataclass, fields

import numpy as np

from lookaround.simulations.metrics import AMBIGUITY_TOL, margin
from lookaround.simulations.pretrain import (
    ClassMetrics,
    ExactTheory,
    PretrainEvaluation,
    SpectralFit,
    evaluate,
    exact_outputs,
    exact_theory,
    population,
)
from lookaround.simulations.sweep import config_hash, run_configs
from lookaround.theory.errors import InputError
from lookaround.theory.limits import check_k, check_seed
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import resolve_source

__all__ = [
    "DEFAULT_OBJECTIVES",
    "DEFAULT_SOURCES",
    "PRETRAIN_METRICS",
    "AgreementRow",
    "PretrainMetric",
    "PretrainRequest",
    "agreement_table",
    "format_agreement",
    "pretrain_point",
    "run_pretrain",
]

DEFAULT_SOURCES = ("topic", "markov", "hmm")
DEFAULT_OBJECTIVES = ("ar", "mlm:2", "vmlm")


@dataclass(frozen=True)
class PretrainRequest:
    """Sources × objectives × seeds, the ``k`` of the comparisons, and one training setting.

    ``settings`` are :class:`lookaround.simulations.transformer.TransformerConfig` fields
    (checked there); the first objective is compared with each other one.
    """

    sources: tuple[str, ...] = DEFAULT_SOURCES
    objectives: tuple[str, ...] = DEFAULT_OBJECTIVES
    seeds: tuple[int, ...] = (0, 1, 2)
    ks: tuple[int, ...] = (2, 3)
    settings: tuple[tuple[str, float | int | str], ...] = ()

    def header(self) -> dict:
        """What the results file is keyed on: every field of the request."""
        return {"pretrain": {**asdict(self), "settings": dict(self.settings)}}

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
        from lookaround.simulations.transformer import TransformerConfig, check_run

        if len(self.objectives) < 2 or len(set(self.objectives)) < len(self.objectives):
            raise InputError("--objectives needs at least two distinct objectives")
        if not self.seeds or len(set(self.seeds)) < len(self.seeds):
            raise InputError("--seeds needs distinct seeds")
        for seed in self.seeds:
            check_seed(seed, "--seeds")
        config = TransformerConfig(**dict(self.settings))
        for name in self.sources:
            source = resolve_source(name)
            population(source)  # enumerable, sized
            for k in self.ks:
                check_k(k, source.vocab)
            for objective in self.objectives:
                check_run(config, source, objective)


def pretrain_point(config: dict) -> dict:
    """One run: train, evaluate against the exact theory, and return its JSON row."""
    from lookaround.simulations.transformer import (
        TransformerConfig,
        network_outputs,
        pretrain_transformer,
    )

    settings = {f.name: config[f.name] for f in fields(TransformerConfig) if f.name in config}
    source = resolve_source(config["source"])
    run = pretrain_transformer(
        source, config["objective"], config=TransformerConfig(**settings), seed=config["seed"]
    )
    pop = population(source)
    theory = _theory(config["source"], config["objective"])
    result = evaluate(
        network_outputs(run, theory, pop), theory, pop, source, ks=tuple(config["ks"]),
        seed=config["seed"],
    )  # fmt: skip
    return {
        "hash": config_hash(config),
        "config": config,
        "final_loss": float(np.mean(run.curve[-50:])),
        **_record(result),
    }


@functools.cache
def _theory(source_name: str, objective: str) -> ExactTheory:
    source = resolve_source(source_name)
    return exact_theory(source, parse_objective(objective, source.length), population(source))


def _record(result: PretrainEvaluation) -> dict:
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


def run_pretrain(
    request: PretrainRequest, out: str, *, jobs: int = 1, scheduler: str | None = None,
    progress: bool = False, repair: bool = False,
) -> dict:  # fmt: skip
    """Run (or resume) every configuration of ``request`` into ``out``; the engine's counts."""
    request.check()
    return run_configs(
        request.header(), request.configs(), pretrain_point, out, jobs, scheduler, progress, repair
    )


@dataclass(frozen=True)
class PretrainMetric:
    """A number read off a network (``network``) and off the exact theory (``exact``)."""

    key: str
    label: str
    better: str  # "lower" or "higher"
    uses_k: bool
    network: Callable[[PretrainEvaluation, int], float]
    exact: Callable[[PretrainEvaluation, ExactTheory, int], float]


def _field(part: str, name: str) -> Callable[[PretrainEvaluation, int], float]:
    def read(ev: PretrainEvaluation, k: int) -> float:
        metrics = ev.at(k) if part == "t1" else getattr(ev, part)
        return float(getattr(metrics, name))

    return read


def _exact(name: str) -> Callable[[PretrainEvaluation, ExactTheory, int], float]:
    return lambda ev, theory, k: float(getattr(ev.at(k), name))


PRETRAIN_METRICS = (
    PretrainMetric("probe_t1", "probe error, T1 map", "lower", True,
                   _field("t1", "probe_error"), _exact("probe_error")),
    PretrainMetric("ari_t1", "ARI, T1 map", "higher", True, _field("t1", "ari"), _exact("ari")),
    PretrainMetric("probe_raw", "probe error, raw pattern-averaged", "lower", True,
                   _field("raw", "probe_error"), _exact("probe_error")),
    PretrainMetric("ari_raw", "ARI, raw pattern-averaged", "higher", True,
                   _field("raw", "ari"), _exact("ari")),
    PretrainMetric("probe_pooled", "probe error, raw mean-pooled", "lower", True,
                   _field("pooled", "probe_error"), _exact("probe_error")),
    PretrainMetric("generation", "generation excess (nats)", "lower", False,
                   lambda ev, k: ev.generation_excess,
                   lambda ev, theory, k: theory.generation.total_excess),
)  # fmt: skip


@dataclass(frozen=True)
class AgreementRow:
    """The exact and the network verdict of one comparison (``first`` against ``other``).

    Margins are oriented so that a positive value favours ``first``. ``k`` is None for
    metrics that do not use it; the raw-feature metrics use all hidden units on the network
    side and set the exact T1 number at ``k`` beside them.
    """

    source: str
    metric: str
    k: int | None
    first: str
    other: str
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
        else "tie" if abs(exact_margin) <= AMBIGUITY_TOL
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
    """The table of ``request`` from its results rows (one per source, objective and seed)."""
    found = {
        (r["config"]["source"], r["config"]["objective"], r["config"]["seed"]): r for r in rows
    }
    out = []
    first = request.objectives[0]
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
        for other in request.objectives[1:]:
            for metric in PRETRAIN_METRICS:
                for k in request.ks if metric.uses_k else request.ks[:1]:
                    out.append(_row(source_name, metric, k, first, other, exact, nets))
    return tuple(out)


def _row(source: str, metric: PretrainMetric, k: int, first: str, other: str, exact, nets):
    (theory_a, ev_a), (theory_b, ev_b) = exact[first], exact[other]
    value_a, value_b = metric.exact(ev_a, theory_a, k), metric.exact(ev_b, theory_b, k)
    ambiguous = metric.uses_k and (theory_a.ambiguous(k) or theory_b.ambiguous(k))
    net_a = np.array([metric.network(ev, k) for ev in nets[first]])
    net_b = np.array([metric.network(ev, k) for ev in nets[other]])
    diffs = np.array([margin(metric.better, a, b) for a, b in zip(net_a, net_b)])
    exact_margin = margin(metric.better, value_a, value_b)
    verdicts = _verdict_pair(exact_margin, diffs, ambiguous)
    spread = lambda v: (float(np.mean(v)), float(np.std(v, ddof=1)) if v.size > 1 else 0.0)
    return AgreementRow(
        source, metric.label, k if metric.uses_k else None, first, other, value_a, value_b,
        exact_margin, verdicts[0], spread(net_a), spread(net_b), verdicts[3], verdicts[4],
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
    head = (f"{'source':<8} {'comparison':<14} {'metric':<33} {'k':>2}  {'exact (first / other)':<22}"
            f" {'exact':<10} {'network mean+-sd (first / other)':<34} {'network':<10} verdict")  # fmt: skip
    lines = [head]
    for r in rows:
        pick = lambda v, r=r: r.first if v == "first" else r.other if v == "other" else name[v]  # noqa: E731
        net = (f"{r.network_first[0]:.4f}+-{r.network_first[1]:.4f} / "
               f"{r.network_other[0]:.4f}+-{r.network_other[1]:.4f}")  # fmt: skip
        verdict = r.agreement + (" (near tie)" if r.near_tie else "")
        lines.append(
            f"{r.source:<8} {r.first + ' vs ' + r.other:<14} {r.metric:<33} "
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
