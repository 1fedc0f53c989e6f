"""Where each claim holds: every exact row of C2-C4 at every admissible setting.

A one-point claim table mixes a property of the source with an accident of the setting. Here
each exact comparison of docs/theory.md §6 is evaluated at every mask count ``m = 1..T-1``
(``mlm:m``), every look-ahead ``J = 2..T-1`` (``dar:J``) and, for metrics that depend on it,
every ``k = 1..V``. A setting where the top-``k`` subspace is not unique (``s_k = s_(k+1)`` on
either side, within ``AMBIGUITY_TOL``) is *ambiguous* and not compared. A row's verdict is
``holds everywhere``, ``fails everywhere``, ``depends`` (with the flip points), or, when no
setting is decided, ``tie everywhere``.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from tqdm import tqdm

from lookaround.base.checks import check_count, check_positive
from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.base.seeds import SeedLike, as_seed
from lookaround.simulations.claims import DEFAULT_SOURCES, ClaimRow, check_trained, summarize
from lookaround.simulations.metrics import (
    COMPARISONS,
    EXACT_TOL,
    Comparison,
    ExactSource,
    Metric,
    Verdict,
    decide,
    unsettled,
)
from lookaround.theory.limits import MAX_STEPS
from lookaround.theory.presets import as_source, resolve_source
from lookaround.theory.sources import Source

__all__ = [
    "SHORT",
    "SHORT_KEY",
    "RobustRow",
    "Setting",
    "SettingVerdict",
    "RobustCheck",
    "check",
    "robust_rows",
    "summary_table",
    "tally",
]


@dataclass(frozen=True)
class Setting:
    """One admissible setting: the objective parameter (``m`` or ``J``) and ``k`` (or None).

    Attributes
    ----------
    param : str
        ``m``, ``J`` or empty.
    value : int or None
        Its value.
    k : int or None
        The feature dimension.
    """

    param: str
    value: int | None
    k: int | None

    def label(self) -> str:
        """``"m=2 k=3"``, ``"m=2"`` or ``"k=3"``."""
        parts = [f"{self.param}={self.value}"] if self.param else []
        return " ".join(parts + ([f"k={self.k}"] if self.k is not None else [])) or "-"


@dataclass(frozen=True)
class SettingVerdict:
    """The two sides' values at one setting and the verdict there.

    Attributes
    ----------
    setting : Setting
    values : dict of str to float
        The two sides' values.
    verdict : str
        ``holds``, ``fails``, ``tie`` or ``ambiguous``.
    note : str
        Why, when it is not decided.
    """

    setting: Setting
    values: dict
    verdict: str  # holds / fails / tie / ambiguous
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RobustRow(Presented):
    """One claim's comparison on one metric and source, at every admissible setting.

    ``metric`` is the metric's label (the table's row), ``key`` its key in
    :data:`lookaround.simulations.metrics.METRICS`.

    Attributes
    ----------
    claim, source : str
    metric : str
        The metric's label (the table's row).
    key : str
        Its key in :data:`lookaround.simulations.metrics.METRICS`.
    winner, other : str
        The two sides' templates.
    better : str
        ``"lower"`` or ``"higher"``.
    tolerance : float
        Values within it tie.
    settings : tuple of SettingVerdict
        Every admissible setting.
    """

    __repr__ = short_repr

    claim: str
    source: str
    metric: str
    key: str
    winner: str
    other: str
    better: str
    tolerance: float
    settings: tuple[SettingVerdict, ...]

    @property
    def counts(self) -> dict[str, int]:
        """Settings that ``holds``, ``fails``, ``tie`` or are ``ambiguous``."""
        counts = {name: 0 for name in ("holds", "fails", "tie", "ambiguous")}
        for entry in self.settings:
            counts[entry.verdict] += 1
        return counts

    @property
    def verdict(self) -> str:
        """What the settings say, and no more: ``holds everywhere`` only when every setting
        holds; ``holds wherever decided`` when the rest tie or are ambiguous (likewise for
        ``fails``); ``depends``; ``tie everywhere``, or ``tie wherever compared`` beside
        ambiguous settings; ``ambiguous everywhere``."""
        c = self.counts
        if not self.settings:
            return "no admissible setting"
        if c["holds"] + c["fails"] == 0:
            if not c["tie"]:
                return "ambiguous everywhere"
            return "tie everywhere" if not c["ambiguous"] else "tie wherever compared"
        if c["holds"] and c["fails"]:
            return "depends"
        side = "holds" if c["holds"] else "fails"
        return (
            f"{side} everywhere" if c["tie"] + c["ambiguous"] == 0 else f"{side} wherever decided"
        )

    @property
    def flips(self) -> tuple[str, ...]:
        """Where the verdict changes between neighbouring compared settings (holds, fails or
        tie; ambiguous ones have none), one axis at a time: ``"m=2: k 1->2 (holds->fails)"``
        moves along ``k``, ``"k=1: m 2->3 (tie->holds)"`` along ``m``."""
        decided = {
            (e.setting.value, e.setting.k): e.verdict
            for e in self.settings
            if e.verdict in ("holds", "fails", "tie")
        }
        param = self.settings[0].setting.param if self.settings else ""
        found = []
        for moving, axis, fixed_name in ((1, "k", param), (0, param, "k")):
            lines: dict = {}
            for key in sorted(decided, key=lambda t: (t[1 - moving] or 0, t[moving] or 0)):
                lines.setdefault(key[1 - moving], []).append(key)
            for at, keys in lines.items():
                for a, b in itertools.pairwise(keys):
                    if decided[a] != decided[b]:
                        where = f"{fixed_name}={at}: " if at is not None else ""
                        found.append(
                            f"{where}{axis} {a[moving]}->{b[moving]} ({decided[a]}->{decided[b]})"
                        )
        return tuple(found)

    def record(self) -> dict:
        """The JSON form: every field, the verdict, the flips and every setting."""
        return {
            "claim": self.claim,
            "source": self.source,
            "metric": self.metric,
            "winner": self.winner,
            "other": self.other,
            "better": self.better,
            "tolerance": self.tolerance,
            "verdict": self.verdict,
            "counts": self.counts,
            "flips": list(self.flips),
            "settings": [
                {
                    "param": e.setting.param,
                    "value": e.setting.value,
                    "k": e.setting.k,
                    "values": e.values,
                    "verdict": e.verdict,
                    "note": e.note,
                }
                for e in self.settings
            ],
        }

    def where(self, verdict: str) -> str:
        """The settings with ``verdict``, compactly: ``"m=1 k=1-3; m=2 k=2"``."""
        chosen = [e.setting for e in self.settings if e.verdict == verdict]
        return _compact(chosen)

    def line(self) -> str:
        """One line: the row's verdict and counts, and where it holds, fails and flips."""
        c = self.counts
        head = (
            f"{self.claim} {self.source:<11} {self.metric:<40} {self.winner} vs {self.other} "
            f"({self.better} wins): {self.verdict}; {c['holds']} hold, {c['fails']} fail, "
            f"{c['tie']} tie, {c['ambiguous']} ambiguous"
        )
        if self.verdict == "depends":
            head += f"; holds at {self.where('holds')}; fails at {self.where('fails')}"
            head += "; flips: " + ", ".join(self.flips)
        return head


def _compact(settings: list[Setting]) -> str:
    groups: dict = {}
    for s in settings:
        groups.setdefault(s.value, []).append(s.k)
    parts = []
    for value, ks in groups.items():
        head = f"{settings[0].param}={value}" if settings[0].param else ""
        ks = [k for k in ks if k is not None]
        tail = f"k={_ranges(ks)}" if ks else ""
        parts.append(" ".join(p for p in (head, tail) if p) or "-")
    return "; ".join(parts)


def _ranges(values: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3,5"``."""
    out, run = [], [values[0]]
    for v in values[1:]:
        if v == run[-1] + 1:
            run.append(v)
        else:
            out.append(run)
            run = [v]
    out.append(run)
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else f"{r[0]}" for r in out)


def _setting_verdict(
    exact: ExactSource, metric: Metric, setting: Setting, winner: str, other: str
) -> SettingVerdict:
    k = setting.k or 1
    values = {other: metric.read(exact, other, k), winner: metric.read(exact, winner, k)}
    reason = unsettled(exact, metric, winner=winner, other=other, k=k)
    verdict = decide(values[winner], values[other], better=metric.better, tol=EXACT_TOL,
                     ambiguous=bool(reason))  # fmt: skip
    if verdict == Verdict.AMBIGUOUS:
        return SettingVerdict(setting, values, verdict, reason)
    note = ""
    if metric.key == "ari":
        note = "; ".join(f"{n}: {exact.clustering(n, k).describe()}" for n in (other, winner))
    return SettingVerdict(setting, values, verdict, note)


def _rows_of(exact: ExactSource, comparison: Comparison) -> list[RobustRow]:
    length, vocab = exact.source.length, exact.source.vocab
    pairs = comparison.pairs(length)
    rows = []
    for metric in comparison.metrics:
        ks: Iterable[int | None] = range(1, vocab + 1) if metric.uses_k else (None,)
        verdicts = tuple(
            _setting_verdict(exact, metric, Setting(comparison.param, value, k), winner, other)
            for value, winner, other in pairs
            for k in ks
        )
        rows.append(
            RobustRow(
                claim=comparison.claim,
                source=exact.source.name,
                metric=metric.label,
                key=metric.key,
                winner=comparison.winner.format(p=comparison.param),
                other=comparison.other.format(p=comparison.param),
                better=metric.better,
                tolerance=EXACT_TOL,
                settings=verdicts,
            )
        )
    return rows


def robust_rows(
    source: Source | ExactSource, claims: tuple[str, ...] = ("C2", "C3", "C4")
) -> list[RobustRow]:
    """Every exact row of ``claims`` on ``source`` at every admissible setting.

    Pass an :class:`ExactSource` to share its computed analyses with other callers.

    Parameters
    ----------
    source : Source or ExactSource
        The source.
    claims : tuple of str
        The claims.

    Returns
    -------
    list of RobustRow

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> rows = robust_rows(preset_source("topic"), claims=("C3",))
    >>> [(r.metric, r.verdict) for r in rows][:2]
    [('covered prefix lengths', 'holds everywhere'), ('alignment chi', 'holds everywhere')]
    """
    if isinstance(claims, str) or not set(claims) <= {"C2", "C3", "C4"} or not claims:
        raise InputError(f"claims must be a tuple of 'C2', 'C3' and 'C4', got {claims!r}")
    exact = source if isinstance(source, ExactSource) else ExactSource(as_source(source))
    return [row for c in COMPARISONS if c.claim in claims for row in _rows_of(exact, c)]


SHORT = {
    "holds everywhere": "H",
    "holds wherever decided": "h",
    "fails everywhere": "F",
    "fails wherever decided": "f",
    "depends": "D",
    "tie everywhere": "T",
    "tie wherever compared": "t",
    "ambiguous everywhere": "A",
    "no admissible setting": "-",
}
# the key printed under every table of SHORT's letters
SHORT_KEY = (
    "rows: H holds everywhere, h holds wherever decided (the other settings tie or are "
    "ambiguous), F and f the same for fails, D depends on the setting (see --detail), T tie "
    "everywhere, t tie wherever compared, A ambiguous everywhere (s_k = s_(k+1))"
)


def summary_table(rows: list[RobustRow]) -> str:
    """Claim x source: how many rows of each verdict (the letters of :data:`SHORT_KEY`).

    Parameters
    ----------
    rows : list of RobustRow
        The rows.

    Returns
    -------
    str

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> print(summary_table(robust_rows(preset_source("topic"), claims=("C3",))))
    claim  topic
    C3     3H
    """
    sources = list(dict.fromkeys(r.source for r in rows))
    claims = list(dict.fromkeys(r.claim for r in rows))
    cells = {
        (claim, source): tally(r for r in rows if (r.claim, r.source) == (claim, source))
        for claim, source in itertools.product(claims, sources)
    }
    width = max([len(s) for s in sources] + [len(v) for v in cells.values()]) + 2
    lines = ["claim  " + "".join(f"{s:<{width}}" for s in sources).rstrip()]
    for claim in claims:
        lines.append(f"{claim:<7}" + "".join(f"{cells[claim, s]:<{width}}" for s in sources))
    return "\n".join(line.rstrip() for line in lines)


def tally(rows: Iterable[RobustRow]) -> str:
    """``"3H 2h 1D"``: how many of ``rows`` have each verdict, in the order of :data:`SHORT`.

    Parameters
    ----------
    rows : iterable of RobustRow
        The rows.

    Returns
    -------
    str

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> tally(robust_rows(preset_source("topic"), claims=("C3",)))
    '3H'
    """
    letters = [SHORT[r.verdict] for r in rows]
    return " ".join(f"{letters.count(c)}{c}" for c in SHORT.values() if c in letters)


@dataclass(frozen=True)
class RobustCheck(Presented):
    """What ``lookaround check`` reports: robust exact rows, and trained rows at one setting.

    Attributes
    ----------
    sources : tuple of str
    k, seed, n_train, n_eval : int
        The trained rows' setting.
    robust : tuple of RobustRow
        The exact rows at every setting.
    trained : tuple of ClaimRow
        The trained rows at one setting.
    """

    __repr__ = short_repr

    sources: tuple[str, ...]
    k: int
    seed: int
    n_train: int
    n_eval: int
    robust: tuple[RobustRow, ...]
    trained: tuple[ClaimRow, ...]

    def _frame_rows(self) -> list[dict]:
        robust = [{"kind": "robust", **row._record()} for row in self.robust]
        return robust + [{"kind": "trained", **row._record()} for row in self.trained]

    def summary(self, *, detail: bool = False) -> str:
        """What ``lookaround check`` prints: the robust rows' claim x source table with its
        key, then the trained rows' table; every row counted, none cut.

        Parameters
        ----------
        detail : bool
            Also one line per row (``check --detail``).

        Returns
        -------
        str
        """
        single = (f"k={self.k}, m=round(0.4 T), seed={self.seed}, N_train={self.n_train}, "
                  f"N_eval={self.n_eval}")  # fmt: skip
        lines = ["where the claims hold: every exact row at every admissible setting",
                 "(m = 1..T-1 for mlm:m, J = 2..T-1 for dar:J, k = 1..V where the metric uses k)",
                 "", summary_table(list(self.robust)), *textwrap.wrap(SHORT_KEY, 92)]  # fmt: skip
        if detail:
            lines += ["", *(row.line() for row in self.robust)]
        lines += ["", f"trained and held-out rows, at one setting ({single}):", "",
                  self.trained_summary()]  # fmt: skip
        if detail:
            lines += ["", *(row.line() for row in self.trained)]
        return "\n".join(lines)

    def record(self) -> dict:
        """The JSON form: the trained rows' setting, every robust row, every trained row."""
        settings = {"sources": list(self.sources), "k": self.k, "seed": self.seed,
                    "n_train": self.n_train, "n_eval": self.n_eval}  # fmt: skip
        return {"settings": settings, "robust": [row.record() for row in self.robust],
                "trained": [row.to_dict() for row in self.trained]}  # fmt: skip

    def to_csv(self) -> str:
        """Every setting of every robust row, then the trained rows: one CSV line each."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["claim", "source", "metric", "winner", "other", "better", "setting",
                         "winner_value", "other_value", "verdict"])  # fmt: skip
        for row in self.robust:
            for entry in row.settings:
                other, winner = entry.values  # built other side first (_setting_verdict)
                writer.writerow([row.claim, row.source, row.metric, winner, other, row.better,
                                 entry.setting.label(), repr(entry.values[winner]),
                                 repr(entry.values[other]), entry.verdict])  # fmt: skip
        for row in self.trained:
            other = next(n for n in row.values if n != row.winner)
            writer.writerow([row.claim, row.source, row.metric, row.winner, other, row.better,
                             "single", repr(row.values[row.winner]), repr(row.values[other]),
                             row.verdict])  # fmt: skip
        return buffer.getvalue().rstrip("\n")

    def trained_summary(self) -> str:
        """Claim x source grid of the trained rows: holds / fails / ties (/ diverged, when any
        training diverged) per cell, and the key."""
        counts = summarize(list(self.trained))
        sources = list(dict.fromkeys(r.source for r in self.trained))
        claims = list(dict.fromkeys(r.claim for r in self.trained))
        diverged = any(r.verdict == Verdict.DIVERGED for r in self.trained)
        width = max(len(s) for s in sources) + 2 + 2 * diverged

        def cell(c: dict | None) -> str:
            if not c:
                return " " * width
            text = f"{c['holds']}/{c['fails']}/{c['tie']}" + (
                f"/{c['diverged']}" if diverged else ""
            )
            return f"{text:<{width}}"

        lines = ["claim  " + "".join(f"{s:<{width}}" for s in sources)]
        lines += [f"{claim:<7}" + "".join(cell(counts.get(f"{claim}/{s}")) for s in sources)
                  for claim in claims]  # fmt: skip
        lines.append("cells: rows holding / failing / tied" + " / diverged" * diverged)
        return "\n".join(line.rstrip() for line in lines)


def check(
    sources: str | os.PathLike | tuple[str, ...] = DEFAULT_SOURCES,
    *,
    k: int = 2,
    seed: SeedLike = 0,
    n_train: int = 50_000,
    n_eval: int = 2000,
    steps: int | None = None,
    lr: float | None = None,
    progress: bool = False,
) -> RobustCheck:
    """The robust exact rows on every source, plus the trained rows at ``k`` and ``mlm:0.4T``.

    Parameters
    ----------
    sources : str, os.PathLike or tuple of str
        One source name (a preset, ``NAME:SEED``, a family call or a JSON file's path) or
        several.
    k : int
        Feature dimension of the trained rows (the exact rows range over every ``k``).
    seed : int or SeedLike
        Every random choice of the trained rows derives from it.
    n_train, n_eval : int
        Training and held-out draws of the trained rows.
    steps, lr : int and float, optional
        Replace the trained models' defaults.
    progress : bool
        Show progress bars on stderr.

    Returns
    -------
    RobustCheck
        The robust rows (each claim and metric at every admissible setting) and the trained
        rows. A training that diverges gives ``diverged`` rows; the exact rows never depend on
        training.
    """
    if isinstance(sources, (str, os.PathLike)):  # one name, not a tuple of its letters
        sources = (os.fspath(sources),)
    seed = as_seed(seed)
    if steps is not None:
        check_count(steps, "steps", low=1, high=MAX_STEPS)
    if lr is not None:
        check_positive(lr, "lr")
    # One ExactSource per source: the trained rows' exact sides (analyses, T3, population
    # k-means at k) are read from what the robust rows already computed.
    exact = {name: ExactSource(resolve_source(name)) for name in sources}
    robust = []
    for name in tqdm(sources, desc="robust rows", unit="source", disable=not progress):
        robust += robust_rows(exact[name])
    trained = check_trained(sources, k=k, seed=seed, n_train=n_train, n_eval=n_eval, steps=steps,
                            lr=lr, progress=progress, exact=exact)  # fmt: skip
    return RobustCheck(tuple(sources), k, seed, n_train, n_eval, tuple(robust), tuple(trained))
