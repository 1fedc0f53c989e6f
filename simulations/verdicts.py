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

import textwrap
from dataclasses import dataclass, replace

import numpy as np

from lookaround.base.reprs import Presented, aligned, short_repr
from lookaround.simulations.agreement import (
    PretrainComparison,
    PretrainRequest,
    sampled_theory_of,
    theory_of,
)
from lookaround.simulations.architectures import architecture_config
from lookaround.simulations.metrics import EXACT_TOL, margin
from lookaround.simulations.pretrain import (
    ExactTheory,
    PretrainEvaluation,
    evaluate,
    exact_outputs,
    population,
)
from lookaround.simulations.records import evaluation_of
from lookaround.simulations.sampled import SampledTheory
from lookaround.theory.presets import resolve_source

__all__ = [
    "PRETRAIN_METRICS",
    "AgreementRow",
    "PretrainMetric",
    "agreement_table",
    "format_agreement",
    "run_key",
    "seed_spread",
]


@dataclass(frozen=True)
class PretrainMetric:
    """A number read off a network and off the exact theory.

    ``part`` is where a :class:`PretrainEvaluation` keeps it: ``"t1"`` (T1's map, per ``k``),
    ``"full"`` (T1's map at full rank, against the exact conditionals' own), ``"raw"``,
    ``"pca"`` or ``"pooled"`` (hidden states; the exact side is T1's number at ``k``), or
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
        Which part of an evaluation holds it (``t1``, ``full``, ``raw``, ``pca``, ``pooled``,
        ``generation``).
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
        """Classification metrics are compared at each ``k``; generation and the full-rank
        map do not use it."""
        return self.part not in ("generation", "full")

    @property
    def kind(self) -> str:
        """``"generation"`` or ``"classification"``: the claims' kinds (the full-rank map
        classifies, though it uses no ``k``)."""
        return "generation" if self.part == "generation" else "classification"

    @property
    def exact_part(self) -> str:
        """The part of the exact predictor's evaluation set beside it."""
        return "full" if self.part == "full" else "t1"

    def available(self, ev: PretrainEvaluation) -> bool:
        """Whether ``ev`` has this number (the exact predictor has no hidden states; rows
        written before a metric existed lack it)."""
        return self.part in ("t1", "generation") or bool(getattr(ev, self.part))

    def network(self, ev: PretrainEvaluation, k: int) -> float:
        if self.part == "generation":
            return ev.generation_excess
        return float(getattr(ev.metrics(self.part, k), self.name))

    def exact(self, ev: PretrainEvaluation, theory: ExactTheory | SampledTheory, k: int) -> float:
        if self.part == "generation":
            if isinstance(theory, SampledTheory):
                return theory.t3.estimate
            return theory.generation.total_excess
        return float(getattr(ev.metrics(self.exact_part, k), self.name))

    def half_width(
        self, ev: PretrainEvaluation, theory: ExactTheory | SampledTheory, k: int
    ) -> float:
        """Half the width of the theory's 95% interval of this number (0 when exact)."""
        if self.part == "generation":
            ci = (theory.t3.low, theory.t3.high) if isinstance(theory, SampledTheory) else None
        else:
            ci = getattr(ev.metrics(self.exact_part, k), self.name + "_ci")
        low, high = (None, None) if ci is None else ci
        if low is None or high is None:
            return 0.0
        return (high - low) / 2


PRETRAIN_METRICS = (
    PretrainMetric("probe_t1", "probe error, T1 map", "lower", "t1", "probe_error"),
    PretrainMetric("ari_t1", "ARI, T1 map", "higher", "t1", "ari"),
    PretrainMetric(
        "probe_full", "probe error, T1 map at full rank", "lower", "full", "probe_error"
    ),  # fmt: skip
    PretrainMetric("probe_raw", "probe error, raw pattern-averaged", "lower", "raw", "probe_error"),
    PretrainMetric("ari_raw", "ARI, raw pattern-averaged", "higher", "raw", "ari"),
    PretrainMetric(
        "probe_pca", "probe error, raw top-k principal directions", "lower", "pca", "probe_error"
    ),  # fmt: skip
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
    width : int or None
        The networks' width ``d`` (None in tables written before rows carried it).
    bottleneck : int or None
        The dimension ``K`` of their feature layer (None: no bottleneck).
    loss : str
        What they were trained on: ``ce`` or ``spectral``.
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
    width: int | None = None
    bottleneck: int | None = None
    loss: str = "ce"


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
    >>> from lookaround.simulations.records import record
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
    found = {run_key(r["config"]): r for r in rows}
    out = []
    for source_name in request.sources:
        source = resolve_source(source_name)
        shown = source.name  # a file's source by its name, not its path
        # one class (Mess3): every classifier is right, so only generation is compared
        kinds = ("generation",) if source.n_classes == 1 else ("classification", "generation")
        exact = _theories(request, source_name)
        for settings in request.shapes():
            shape = architecture_config(settings)
            nets = {
                o: [evaluation_of(found[run_key({**settings, "source": source_name,
                                                  "objective": o, "seed": s})])
                    for s in request.seeds]
                for o in request.objectives
            }  # fmt: skip
            for row in _comparisons(request, shown, exact, nets, kinds):
                out.append(replace(row, width=shape.width, loss=settings.get("loss", "ce"),
                                   bottleneck=getattr(shape, "bottleneck", None)))  # fmt: skip
    return tuple(out)


def run_key(config: dict) -> tuple:
    """The key of a results row's run: source, objective, seed and width (None: the default).

    Parameters
    ----------
    config : dict
        A run's configuration (a results row's ``config``, or a request's settings with the
        source, objective and seed).

    Returns
    -------
    tuple
    """
    return config["source"], config["objective"], config["seed"], config.get("width")


def _comparisons(
    request: PretrainRequest, shown: str, exact: dict, nets: dict, kinds: tuple[str, ...]
) -> list:
    out = []
    for pair in request.pairs():
        for metric in PRETRAIN_METRICS:
            if metric.kind not in kinds or (pair.kind is not None and metric.kind != pair.kind):
                continue
            if not all(metric.available(ev) for runs in nets.values() for ev in runs):
                continue
            for k in request.ks if metric.uses_k else request.ks[:1]:
                out.append(_row(shown, metric, k, pair, exact, nets))
    return out


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


def seed_spread(values: np.ndarray | list[float]) -> tuple[float, float]:
    """Mean and sample sd over seeds (sd nan for one seed: one value has no spread to show).

    Parameters
    ----------
    values : array_like
        One value per seed.

    Returns
    -------
    tuple of float
    """
    arr = np.asarray(values, dtype=float)
    return float(np.mean(arr)), float(np.std(arr, ddof=1)) if arr.size > 1 else float("nan")


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
        exact_margin, verdicts[0], seed_spread(net_a), seed_spread(net_b), verdicts[3], verdicts[4],
        verdicts[1], verdicts[2], verdicts[5], diffs.size, half,
    )  # fmt: skip


TABLE_WIDTH = 100  # the printed table's lines, at most


def format_agreement(rows: tuple[AgreementRow, ...]) -> str:
    """The agreement table as ``lookaround pretrain`` prints it, within :data:`TABLE_WIDTH`.

    One block per source and comparison; metrics by key, with the key and the decision rule
    in a footer.

    Parameters
    ----------
    rows : tuple of AgreementRow
        The table's rows.

    Returns
    -------
    str
    """
    keys = {m.label: m.key for m in PRETRAIN_METRICS}
    sampled = any(r.exact_half_width > 0 for r in rows)
    digits = 3 if sampled else 4  # estimates to their intervals' scale; exact numbers to 4
    lines: list[str] = []
    shapes = len({(r.width, r.bottleneck) for r in rows}) > 1
    for (source, first, other, claim, width, bottleneck), block in _blocks(rows):
        seeds = block[0].seeds
        shape = (f"; width {width}" if shapes else "") + (
            f"; bottleneck {bottleneck}" if bottleneck is not None else ""
        )
        lines.append(f"{source}: {(claim + ' ') if claim else ''}{first} vs {other} "
                     f"({seeds} seed{'s' * (seeds != 1)}{shape})")  # fmt: skip
        cells = [["metric", "k", "exact first/other", "winner",
                  "networks first/other", "winner", "verdict"]]  # fmt: skip
        for r in block:
            pick = r.first if r.exact_verdict == "first" else r.other
            exact = (f"{r.exact_first:.3f}/{r.exact_other:.3f} ±{r.exact_half_width:.3f}"
                     if sampled else f"{r.exact_first:.4f}/{r.exact_other:.4f}")  # fmt: skip
            cells.append([
                keys.get(r.metric, r.metric), "-" if r.k is None else str(r.k), exact,
                pick if r.exact_verdict in ("first", "other") else r.exact_verdict,
                f"{_spread_text(r.network_first, seeds, digits)}/"
                f"{_spread_text(r.network_other, seeds, digits)}",
                _winner(r, r.network_verdict),
                r.agreement + ("*" if r.near_tie else ""),
            ])  # fmt: skip
        lines += aligned(cells)
    return "\n".join(lines + _footer(rows, keys, sampled))


def _blocks(rows: tuple[AgreementRow, ...]) -> list[tuple[tuple, list[AgreementRow]]]:
    blocks: dict[tuple, list[AgreementRow]] = {}
    for r in rows:
        blocks.setdefault((r.source, r.first, r.other, r.claim, r.width, r.bottleneck),
                          []).append(r)  # fmt: skip
    return list(blocks.items())


def _spread_text(spread: tuple[float, float], seeds: int, digits: int) -> str:
    """``mean±sd``, the sd ``n/a`` over one seed (a spread of one value is not 0)."""
    return f"{spread[0]:.{digits}f}±" + (f"{spread[1]:.{digits}f}" if seeds > 1 else "n/a")


def _winner(row: AgreementRow, verdict: str) -> str:
    return {"first": row.first, "other": row.other}.get(verdict, verdict)


def _footer(rows: tuple[AgreementRow, ...], keys: dict, sampled: bool) -> list[str]:
    counts = {v: sum(r.agreement == v for r in rows)
              for v in ("agree", "disagree", "unresolved", "ambiguous")}  # fmt: skip
    seeds = rows[0].seeds if rows else 0
    shown = dict.fromkeys(r.metric for r in rows)
    text = [
        ", ".join(f"{n} {v}" for v, n in counts.items()) + ".",
        "metrics: " + "; ".join(f"{keys.get(m, m)} = {m}" for m in shown) + ".",
        "*: near tie, the exact margin smaller than the seeds' spread of the paired difference.",
        f"networks: mean±sd over {seeds} seed{'s' * (seeds != 1)}; their winner is the sign of "
        "the paired difference where it is beyond 2 standard errors, else unresolved. This is "
        "a screen, not a test at a stated level"
        + (" (one seed leaves no standard error)." if seeds == 1
           else f" ({seeds} seeds leave the standard error {seeds - 1} degree"
           f"{'s' * (seeds != 2)} of freedom)." if seeds < 5 else "."),
    ]  # fmt: skip
    if sampled:
        text.append("exact: estimated on held-out draws; ± is the margin's 95% half-width "
                    "(unresolved when the margin is within it).")  # fmt: skip
    return [
        part for line in text for part in textwrap.wrap(line, TABLE_WIDTH, break_on_hyphens=False)
    ]
