"""The agreement table of ``lookaround pretrain``: each network's verdict beside the exact theory's.

Per source, metric and ``k``, the first objective against each other one
(docs/theory.md §10):

- the **exact verdict**: which objective the theory favours (margin beyond 1e-9, else a tie;
  ``ambiguous`` where ``s_k = s_(k+1)`` leaves T1's map undefined);
- the **network's verdict**: the mean paired difference over seeds (both arms trained with
  the same seed) beyond 2 standard errors, else ``unresolved``;
- ``agree`` / ``disagree`` / ``unresolved`` (an exact tie agrees with an unresolved network),
  and a near-tie flag where the exact margin is below the seed noise (the paired sd).

Past enumeration (a sampled evaluation, :mod:`lookaround.simulations.sampled`) the theory's
values are estimates on held-out draws with 95% intervals; the margin's half-width is the two
half-widths in quadrature (conservative: both sides share their draws, so they correlate
positively), and a margin within it is ``unresolved``: no verdict, whatever the networks say.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lookaround.base.reprs import Presented, short_repr
from lookaround.simulations.agreement import (
    PretrainComparison,
    PretrainRequest,
    evaluation_of,
    sampled_theory_of,
    theory_of,
)
from lookaround.simulations.metrics import EXACT_TOL, margin
from lookaround.simulations.pretrain import (
    ExactTheory,
    PretrainEvaluation,
    evaluate,
    exact_outputs,
    population,
)
from lookaround.simulations.sampled import SampledTheory
from lookaround.theory.presets import resolve_source

__all__ = [
    "PRETRAIN_METRICS",
    "AgreementRow",
    "PretrainMetric",
    "agreement_table",
    "format_agreement",
]


@dataclass(frozen=True)
class PretrainMetric:
    """A number read off a network and off the exact theory.

    ``part`` is where a :class:`PretrainEvaluation` keeps it: ``"t1"`` (T1's map, per ``k``),
    ``"raw"`` or ``"pooled"`` (hidden states; the exact side is T1's number at ``k``), or
    ``"generation"`` (the exact side is T3's excess).

    Attributes
    ----------
    key : str
        Its key in a results row.
    label : str
        Its row of the table.
    better : str
        ``"lower"`` or ``"higher"``.
    part : str
        Which part of an evaluation holds it (``t1``, ``raw``, ``pooled``, ``generation``).
    name : str
        The field of that part.
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

    def exact(self, ev: PretrainEvaluation, theory: ExactTheory | SampledTheory, k: int) -> float:
        if self.part == "generation":
            if isinstance(theory, SampledTheory):
                return theory.t3.estimate
            return theory.generation.total_excess
        return float(getattr(ev.at(k), self.name))

    def half_width(
        self, ev: PretrainEvaluation, theory: ExactTheory | SampledTheory, k: int
    ) -> float:
        """Half the width of the theory's 95% interval of this number (0 when exact)."""
        if self.part == "generation":
            ci = (theory.t3.low, theory.t3.high) if isinstance(theory, SampledTheory) else None
        else:
            ci = getattr(ev.at(k), self.name + "_ci")
        low, high = (None, None) if ci is None else ci
        if low is None or high is None:
            return 0.0
        return (high - low) / 2


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

    Attributes
    ----------
    source, metric : str
        The source and the metric's label.
    k : int or None
        The feature dimension, None for metrics that do not use it.
    first, other : str
        The two objectives.
    claim : str or None
        The claim the comparison belongs to, if any.
    exact_first, exact_other, exact_margin : float
        The exact theory's values and their margin (positive favours ``first``).
    exact_verdict : str
        ``first``, ``other``, ``tie``, ``ambiguous`` or ``unresolved`` (a sampled margin
        within its interval).
    network_first, network_other : tuple of float
        The networks' mean and standard deviation over seeds.
    mean_difference, standard_error : float
        The paired difference over seeds and its standard error.
    network_verdict : str
        ``first``, ``other`` or ``unresolved`` (beyond 2 standard errors or not).
    agreement : str
        ``agree``, ``disagree``, ``unresolved`` or ``ambiguous``.
    near_tie : bool
        Whether the exact margin is within the tolerance of a tie.
    seeds : int
        Paired seeds.
    exact_half_width : float
        Half the width of the exact margin's 95% interval (0 when the theory is exact).
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
    exact_half_width: float = 0.0


def _verdict_pair(exact_margin: float, diffs: np.ndarray, ambiguous: bool, half: float) -> tuple:
    exact = (
        "ambiguous" if ambiguous
        else "unresolved" if half > 0 and abs(exact_margin) <= half
        else "tie" if abs(exact_margin) <= EXACT_TOL
        else "first" if exact_margin > 0 else "other"
    )  # fmt: skip
    mean = float(np.mean(diffs))
    sd = float(np.std(diffs, ddof=1)) if diffs.size > 1 else float("nan")
    se = sd / np.sqrt(diffs.size) if diffs.size > 1 else float("nan")
    network = "first" if mean > 2 * se else "other" if mean < -2 * se else "unresolved"
    if exact in ("ambiguous", "unresolved"):
        agreement = exact
    elif exact == network or (exact == "tie" and network == "unresolved"):
        agreement = "agree"
    else:
        agreement = "unresolved" if network == "unresolved" else "disagree"
    return exact, network, agreement, mean, se, bool(abs(exact_margin) < sd)


def agreement_table(request: PretrainRequest, rows: list[dict]) -> tuple[AgreementRow, ...]:
    """The table of ``request`` from its results rows (one per source, objective and seed).

    Parameters
    ----------
    request : PretrainRequest
        What was trained.
    rows : list of dict
        Its results rows.

    Returns
    -------
    tuple of AgreementRow

    Examples
    --------
    >>> from lookaround.simulations.agreement import record
    >>> from lookaround.simulations.pretrain import evaluate, exact_outputs, population
    >>> from lookaround.theory.presets import resolve_source
    >>> request = PretrainRequest(sources=("topic",), objectives=("ar", "mlm:1"), seeds=(0, 1),
    ...                           ks=(2,))
    >>> rows = [{"config": {"source": "topic", "objective": o, "seed": s},
    ...          **record(evaluate(exact_outputs(theory_of("topic", o)), theory_of("topic", o),
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
        exact = _theories(request, source_name)
        nets = {
            o: [evaluation_of(found[source_name, o, s]) for s in request.seeds]
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


def _theories(request: PretrainRequest, source_name: str) -> dict:
    """Each objective's theory and the exact predictor's evaluation, as its networks are judged."""
    if request.mode(source_name) == "sampled":
        out = {}
        for objective in request.objectives:
            theory = sampled_theory_of(source_name, objective, request.eval_sequences, request.ks)
            out[objective] = (theory, theory.evaluation)
        return out
    source = resolve_source(source_name)
    pop = population(source)
    return {
        o: (
            theory_of(source_name, o),
            evaluate(
                exact_outputs(theory_of(source_name, o)),
                theory_of(source_name, o),
                pop,
                source,
                ks=request.ks,
            ),
        )  # fmt: skip
        for o in request.objectives
    }


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
    half = float(
        np.hypot(metric.half_width(ev_a, theory_a, k), metric.half_width(ev_b, theory_b, k))
    )
    verdicts = _verdict_pair(exact_margin, diffs, ambiguous, half)
    return AgreementRow(
        source, metric.label, k if metric.uses_k else None, first, other, pair.claim,
        value_a, value_b,
        exact_margin, verdicts[0], _spread(net_a), _spread(net_b), verdicts[3], verdicts[4],
        verdicts[1], verdicts[2], verdicts[5], diffs.size, half,
    )  # fmt: skip


def format_agreement(rows: tuple[AgreementRow, ...]) -> str:
    """The agreement table as ``lookaround pretrain`` prints it.

    Parameters
    ----------
    rows : tuple of AgreementRow
        The table's rows.

    Returns
    -------
    str
    """
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
    sampled = any(r.exact_half_width > 0 for r in rows)
    for r in rows:
        values = f"{r.exact_first:.4f} / {r.exact_other:.4f}"
        values += f" ±{r.exact_half_width:.4f}" if sampled else ""
        pick = lambda v, r=r: r.first if v == "first" else r.other if v == "other" else name[v]  # noqa: E731
        net = (f"{r.network_first[0]:.4f}+-{r.network_first[1]:.4f} / "
               f"{r.network_other[0]:.4f}+-{r.network_other[1]:.4f}")  # fmt: skip
        verdict = r.agreement + (" (near tie)" if r.near_tie else "")
        lines.append(
            f"{r.source:<10} {(r.claim + ' ' if r.claim else '') + r.first + ' vs ' + r.other:<18} "
            f"{r.metric:<33} "
            f"{'-' if r.k is None else r.k:>2}  {values:<{23 if sampled else 20}} "
            f"{pick(r.exact_verdict):<10} {net:<34} {pick(r.network_verdict):<10} {verdict}"
        )
    counts = {
        v: sum(r.agreement == v for r in rows)
        for v in ("agree", "disagree", "unresolved", "ambiguous")
    }
    lines.append(", ".join(f"{n} {v}" for v, n in counts.items()) +
                 f" (network verdict: paired difference over {rows[0].seeds if rows else 0} seeds "
                 "beyond 2 standard errors)")  # fmt: skip
    if sampled:
        lines.append("exact: estimated on held-out draws; ± is the margin's 95% half-width "
                     "(unresolved when the margin is within it)")  # fmt: skip
    return "\n".join(lines)
