"""The trained rows of the claim table: C1-C4 as models fitted on samples see them, at one setting.

The exact rows, at every admissible setting, are :mod:`lookaround.simulations.robust`'s; both
read the claim model of :mod:`lookaround.simulations.metrics`. Here is what only a trained model
or held-out draws can say: T1's optimum reached by the spectral loss (C1), k-means ARI of
trained features (C2, C4) and held-out excess generation loss of cross-entropy models (C3, C4),
each at :data:`~lookaround.simulations.metrics.ONE_SETTING`. Held-out estimates tie within two
standard errors, or a stated 0.02 for k-means ARI (held-out ``N`` in the detail).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm import tqdm

from lookaround.base.reprs import Presented, number, short_repr
from lookaround.base.seeds import streams
from lookaround.simulations.data import PatternDraws, draw_patterns
from lookaround.simulations.evaluate import (
    GenerationEval,
    averaged_features,
    classification_metrics,
    exact_dense_cooccurrence,
    generation_eval,
)
from lookaround.simulations.metrics import COMPARISONS, Better, ExactSource, Verdict, decide
from lookaround.simulations.models import Model
from lookaround.simulations.runs import DEFAULTS, FITTERS, Diverged, check_converged, simulate
from lookaround.simulations.tabular import train_spectral
from lookaround.theory.bounds import spectral_loss, spectral_optimum
from lookaround.theory.numerics import SLACK
from lookaround.theory.presets import resolve_source

__all__ = [
    "C1_EXACT_TOL",
    "C1_SAMPLE_TOL",
    "CLAIMS",
    "ClaimRow",
    "DEFAULT_SOURCES",
    "SAMPLED_TOL",
    "check_trained",
    "compare",
    "summarize",
    "trained_rows",
]

DEFAULT_SOURCES = ("topic", "positional", "markov", "sbm-walk", "hmm", "disjoint")
SAMPLED_TOL = 0.02
C1_SAMPLE_TOL = 0.01
C1_EXACT_TOL = 1e-6
CLAIMS = ("C1", "C2", "C3", "C4")
C1_SAMPLED = "T1 gap, tabular spectral model trained on samples"
C1_EXACT = "T1 gap, trained on the exact co-occurrence"


@dataclass(frozen=True)
class ClaimRow(Presented):
    """One comparison: ``values[winner]`` against ``values[other]`` on ``metric``.

    Attributes
    ----------
    claim, source, metric : str
        The claim, the source and the metric's label.
    values : dict of str to float
        Each side's value, by objective.
    winner : str
        The paper's side.
    better : Better
        Which direction wins.
    tolerance : float
        Values within it tie.
    verdict : Verdict
    detail : str
        What the verdict rests on.
    trained : bool
        Whether the values come from trained models (else exact).
    """

    __repr__ = short_repr

    claim: str
    source: str
    metric: str
    values: dict
    winner: str
    better: Better
    tolerance: float
    verdict: Verdict
    detail: str
    trained: bool = True  # from a trained model or held-out draws: one setting, one seed

    @property
    def holds(self) -> bool:
        """True only when the claimed side wins by more than the tolerance."""
        return self.verdict == Verdict.HOLDS

    def to_dict(self) -> dict:
        out = asdict(self)
        out["holds"] = self.holds
        return out

    def line(self) -> str:
        """One line: claim, source, verdict, metric, each side's value, the rule and why."""
        shown = "  ".join(f"{name}={number(value, 6)}" for name, value in self.values.items())
        return (
            f"{self.claim}  {self.source:<11} {self.verdict:<5}  {self.metric:<45} {shown}  "
            f"[{self.winner} {self.better}; tol {self.tolerance:g}]  {self.detail}"
        )


def compare(
    claim: str,
    source: str,
    metric: str,
    values: dict,
    winner: str,
    *,
    better: str,
    tol: float,
    detail: str = "",
) -> ClaimRow:
    """Verdict of ``winner`` against the other side: ``holds`` / ``tie`` / ``fails``.

    Parameters
    ----------
    claim, source, metric : str
        What is compared, where, on what.
    values : dict of str to float
        The two sides' values, by objective.
    winner : str
        The paper's side.
    better : str
        ``"lower"`` or ``"higher"``.
    tol : float
        Values within it tie.
    detail : str
        What the verdict rests on.

    Returns
    -------
    ClaimRow

    Examples
    --------
    >>> compare("C3", "s", "chi", {"ar": 1.0, "mlm:2": float("inf")}, "ar", better="lower",
    ...         tol=1e-9).verdict
    <Verdict.HOLDS: 'holds'>
    >>> compare("C2", "s", "ari", {"ar": 0.50, "mlm:2": 0.51}, "mlm:2", better="higher",
    ...         tol=0.02).verdict
    <Verdict.TIE: 'tie'>
    """
    (other,) = [name for name in values if name != winner]
    verdict = decide(values[winner], values[other], better=better, tol=tol)
    return ClaimRow(claim, source, metric, values, winner, Better(better), tol, verdict, detail)


def _excess_row(
    claim: str, source: str, metric: str, evals: dict, winner: str, note: str
) -> ClaimRow:
    values = {name: e.mean_excess for name, e in evals.items()}
    se = float(np.sqrt(sum(e.mean_standard_error**2 for e in evals.values())))
    detail = ", ".join(
        f"{n}: {e.mean_excess:.4f} +- {e.mean_standard_error:.4f}" for n, e in evals.items()
    )
    return compare(claim, source, metric, values, winner, better="lower", tol=2 * se,
                   detail=f"{detail} ({note})")  # fmt: skip


@dataclass(frozen=True)
class _Trainer:
    """The draws and trained models of one source, each made once and kept."""

    exact: ExactSource
    k: int
    seed: int
    n_train: int
    n_eval: int
    steps: int | None = None  # every model's own default when None (runs.DEFAULTS)
    lr: float | None = None
    _trained: dict[tuple[str, str, str], Model] = field(default_factory=dict)
    _held: dict[str, PatternDraws] = field(default_factory=dict)

    def held(self, name: str) -> PatternDraws:
        if name not in self._held:
            objective, seed = self.exact.objective(name), streams(self.seed).bundle_heldout
            self._held[name] = draw_patterns(self.exact.source, objective, self.n_eval, seed=seed)
        return self._held[name]

    def setting(self, model: str, loss: str) -> tuple[int, float]:
        """The steps and learning rate of ``model`` on ``loss``: the request's, else its default."""
        cfg = DEFAULTS[(model, loss)]
        return (cfg["steps"] if self.steps is None else self.steps,
                cfg["lr"] if self.lr is None else self.lr)  # fmt: skip

    def trained(self, name: str, model: str, loss: str) -> Model:
        """The model trained on ``name``'s draws; :class:`Diverged` (on every read) if it left
        the finite numbers."""
        key = (name, model, loss)
        steps, lr = self.setting(model, loss)
        if key not in self._trained:
            objective, source = self.exact.objective(name), self.exact.source
            draws = draw_patterns(source, objective, self.n_train, seed=self.seed)
            # an overflow is reported just below as a diverged row, not as warnings
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._trained[key] = FITTERS[model](
                    draws, source.vocab, self.k, loss=loss, steps=steps, lr=lr, seed=self.seed
                )
        check_converged(self._trained[key], lr)
        return self._trained[key]

    def generation_of(self, name: str, model: str) -> GenerationEval:
        trained, source = self.trained(name, model, "ce"), self.exact.source
        return generation_eval(
            trained, source, self.exact.objective(name), tokens=self.held(name).tokens
        )


def _guarded(
    claim: str, b: _Trainer, metric: str, winner: str, better: str, build: Callable[[], ClaimRow]
) -> ClaimRow:
    """``build()``'s row, or a ``diverged`` row of the same metric when its training diverged:
    a result with its status, never a lost table."""
    try:
        return build()
    except Diverged as exc:
        return ClaimRow(claim, b.exact.source.name, metric, {}, winner, Better(better), 0.0,
                        Verdict.DIVERGED, str(exc))  # fmt: skip


def _c1(b: _Trainer, ar: str, masked: str) -> list[ClaimRow]:
    steps, lr = b.setting("tabular", "spectral")
    rows = []
    for name in (ar, masked):
        objective = b.exact.objective(name)
        spectrum = b.exact.analysis(name, b.k).level("context").singular_values
        optimum = spectral_optimum(spectrum, b.k)
        gap = f"s_k - s_(k+1) = {spectrum[b.k - 1] - spectrum[b.k]:.4f}"

        def sampled(name=name, objective=objective, optimum=optimum, gap=gap) -> ClaimRow:
            run = simulate(
                b.exact.source, objective, model="tabular", loss="spectral", k=b.k, seed=b.seed,
                n_train=4 * b.n_train, n_eval=b.n_eval, steps=steps, lr=lr,
            )  # fmt: skip
            drawn = f"N={4 * b.n_train} draws, largest principal angle {run.max_angle_deg:.2f} deg"
            return _c1_row(b, name, C1_SAMPLED, run.final_loss, optimum, C1_SAMPLE_TOL,
                           f"{drawn}, {gap}")  # fmt: skip

        def exact(name=name, objective=objective, optimum=optimum, gap=gap) -> ClaimRow:
            a, _ = exact_dense_cooccurrence(b.exact.source, objective)
            f, g, _ = train_spectral(a, b.k, steps=3 * steps, lr=lr, seed=b.seed)
            return _c1_row(b, name, C1_EXACT, spectral_loss(a, f, g), optimum, C1_EXACT_TOL,
                           f"gradient descent, {gap}")  # fmt: skip

        rows += [_guarded("C1", b, C1_SAMPLED, "trained", "lower", sampled),
                 _guarded("C1", b, C1_EXACT, "trained", "lower", exact)]  # fmt: skip
    return rows


def _c1_row(
    b: _Trainer, name: str, metric: str, final: float, optimum: float, tol: float, detail: str
) -> ClaimRow:
    gap = final - optimum
    # T1 is proved: no model can go below the optimum; a negative gap is a defect, shown as failing.
    verdict = Verdict.HOLDS if -SLACK <= gap <= tol else Verdict.FAILS
    detail = f"objective {name}, gap {gap:.3g} (tolerance {tol:g}); {detail}"
    values = {"trained": final, "optimum": optimum}
    return ClaimRow("C1", b.exact.source.name, metric, values, "trained", Better.LOWER, tol,
                    verdict, detail)  # fmt: skip


def _clustering(b: _Trainer, claim: str, winner: str, other: str) -> list[ClaimRow]:
    """k-means ARI on a trained tabular spectral model's averaged features, held out."""
    pair, source, metric = (other, winner), b.exact.source, "k-means ARI on trained h(x) (held-out)"

    def build() -> ClaimRow:
        ari = {
            n: classification_metrics(
                averaged_features(
                    b.trained(n, "tabular", "spectral"), b.exact.objective(n), b.held(n).tokens
                ),
                b.held(n).classes,
                source.n_classes,
                seed=b.seed,
            ).ari
            for n in pair
        }
        return compare(claim, source.name, metric, ari, winner, better="higher", tol=SAMPLED_TOL,
                       detail=f"tabular spectral model, N={b.n_train} draws, {b.n_eval} held-out")  # fmt: skip

    return [_guarded(claim, b, metric, winner, "higher", build)]


def _generation(b: _Trainer, claim: str, winner: str, other: str) -> list[ClaimRow]:
    """Held-out excess generation loss of the tabular and the shared cross-entropy models."""
    note = f"N={b.n_train} draws, {b.n_eval} held-out, tie within 2 se"

    def build(model: str) -> ClaimRow:
        evals = {n: b.generation_of(n, model) for n in (other, winner)}
        return _excess_row(claim, b.exact.source.name, _generation_metric(model), evals, winner,
                           note)  # fmt: skip

    return [
        _guarded(claim, b, _generation_metric(model), winner, "lower", lambda m=model: build(m))
        for model in ("tabular", "shared")
    ]


def _generation_metric(model: str) -> str:
    return f"held-out excess generation loss, {model} CE model"


_KIND_ROWS: dict[str, Callable[[_Trainer, str, str, str], list[ClaimRow]]] = {
    "classification": _clustering,
    "generation": _generation,
}


def _claim_rows(b: _Trainer, claim: str) -> list[ClaimRow]:
    length = b.exact.source.length
    if claim == "C1":  # T1 on the two sides C2 compares
        masked, ar = next(c for c in COMPARISONS if c.claim == "C2").at_one_setting(length)
        return _c1(b, ar, masked)
    return [row for c in COMPARISONS if c.claim == claim
            for row in _KIND_ROWS[c.kind](b, claim, *c.at_one_setting(length))]  # fmt: skip


def trained_rows(
    exact: ExactSource,
    *,
    k: int = 2,
    seed: int = 0,
    n_train: int = 50_000,
    n_eval: int = 2000,
    claims: tuple[str, ...] = CLAIMS,
    steps: int | None = None,
    lr: float | None = None,
) -> list[ClaimRow]:
    """The trained rows of ``claims`` on one source, at :data:`ONE_SETTING` and ``k``.

    Pass the :class:`ExactSource` the robust rows read, so the exact sides are computed once.
    ``steps`` and ``lr`` replace every model's default (:data:`~lookaround.simulations.runs.DEFAULTS`;
    C1's exact row trains ``3 steps``); a model whose training diverges gives ``diverged`` rows.

    Parameters
    ----------
    exact : ExactSource
        The exact numbers of one source.
    k : int
        The feature dimension.
    seed : int
        Seed of the draws and the models.
    n_train, n_eval : int
        Training draws and held-out sequences.
    claims : tuple of str
        The claims to check.
    steps : int, optional
        Optimizer steps (unset: the model's default).
    lr : float, optional
        Learning rate (unset: the model's default).

    Returns
    -------
    list of ClaimRow

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> rows = trained_rows(ExactSource(preset_source("disjoint")), claims=("C3",),
    ...                     n_train=2000, n_eval=200)
    >>> [(r.metric, r.winner) for r in rows]  # doctest: +NORMALIZE_WHITESPACE
    [('held-out excess generation loss, tabular CE model', 'ar'),
     ('held-out excess generation loss, shared CE model', 'ar')]
    """
    trainer = _Trainer(exact, k, seed, n_train, n_eval, steps, lr)
    return [row for claim in claims for row in _claim_rows(trainer, claim)]


def check_trained(
    sources: tuple[str, ...] = DEFAULT_SOURCES,
    *,
    k: int = 2,
    seed: int = 0,
    n_train: int = 50_000,
    n_eval: int = 2000,
    claims: tuple[str, ...] = CLAIMS,
    steps: int | None = None,
    lr: float | None = None,
    progress: bool = False,
    exact: dict[str, ExactSource] | None = None,
) -> list[ClaimRow]:
    """The trained rows on every source (presets or JSON files), in source, claim order.

    ``exact`` maps a source name to an :class:`ExactSource` whose computed numbers are reused;
    ``steps`` and ``lr`` as in :func:`trained_rows`.

    Parameters
    ----------
    sources : tuple of str
        The sources.
    k : int
        The feature dimension.
    seed : int
        Seed of the draws and the models.
    n_train, n_eval : int
        Training draws and held-out sequences.
    claims : tuple of str
        The claims to check.
    steps : int, optional
        Optimizer steps (unset: the model's default).
    lr : float, optional
        Learning rate (unset: the model's default).
    progress : bool
        Show a progress bar.
    exact : dict of str to ExactSource, optional
        Exact numbers already computed, by source name.

    Returns
    -------
    list of ClaimRow
    """
    rows: list[ClaimRow] = []
    for name in tqdm(sources, desc="trained rows", unit="source", disable=not progress):
        shared = (exact or {}).get(name) or ExactSource(resolve_source(name))
        rows += trained_rows(shared, k=k, seed=seed, n_train=n_train, n_eval=n_eval,
                             claims=claims, steps=steps, lr=lr)  # fmt: skip
    return rows


def summarize(rows: list[ClaimRow]) -> dict:
    """Per ``claim/source``: counts of holding, failing, tied and diverged rows, and an overall
    verdict (``holds`` / ``fails`` when every decided row agrees, ``mixed`` otherwise, ``tie``
    when none is decided).

    Parameters
    ----------
    rows : list of ClaimRow
        The rows.

    Returns
    -------
    dict

    Examples
    --------
    >>> r = compare("C3", "s", "chi", {"ar": 1.0, "m": 2.0}, "ar", better="lower", tol=0.0)
    >>> summarize([r])["C3/s"]["verdict"]
    'holds'
    """
    out: dict[str, dict] = {}
    for row in rows:
        counts = out.setdefault(
            f"{row.claim}/{row.source}", {"holds": 0, "fails": 0, "tie": 0, "diverged": 0}
        )
        counts[row.verdict] += 1
    for counts in out.values():
        decided = counts["holds"] + counts["fails"]
        counts["verdict"] = (
            "tie"
            if not decided
            else "holds"
            if not counts["fails"]
            else "fails"
            if not counts["holds"]
            else "mixed"
        )
    return out
