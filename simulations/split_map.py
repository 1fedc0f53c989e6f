"""The split map: which network settings and probes make a network's verdict agree with the
exact one (docs/theory.md §10.5).

Pretraining tables run at several shapes (width, bottleneck) and losses give, for each
comparison, probe and ``k``, one verdict per setting. Read side by side they show where a
practitioner's probe follows the theory and where it parts from it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from lookaround.base.reprs import Presented, aligned, short_repr
from lookaround.simulations.agreement import PretrainRequest
from lookaround.simulations.verdicts import PRETRAIN_METRICS, TABLE_WIDTH, AgreementRow

__all__ = ["SPLIT_METRICS", "SplitCell", "format_split_map", "split_map", "split_requests"]

SPLIT_METRICS = ("probe_t1", "probe_full", "probe_raw", "probe_pca", "probe_pooled")
"""The probes the map compares, by key: T1's map at ``k`` and at full rank, the raw states
pattern-averaged, their top-``k`` principal directions, and mean-pooled."""

_SYMBOL = {"agree": "=", "disagree": "x", "unresolved": "?", "ambiguous": "a"}


@dataclass(frozen=True)
class SplitCell(Presented):
    """One setting's verdict on one comparison, probe and ``k``.

    Attributes
    ----------
    source, first, other : str
        The source and the two objectives compared.
    width : int or None
        The networks' width ``d``.
    bottleneck : int or None
        Their feature layer's dimension ``K`` (None: none).
    loss : str
        ``ce`` or ``spectral``.
    metric : str
        The probe's key (:data:`SPLIT_METRICS`).
    k : int or None
        The ``k`` of the exact side (None for the full-rank map).
    exact_verdict, network_verdict, agreement : str
        As in :class:`lookaround.simulations.verdicts.AgreementRow`.
    """

    __repr__ = short_repr

    source: str
    first: str
    other: str
    width: int | None
    bottleneck: int | None
    loss: str
    metric: str
    k: int | None
    exact_verdict: str
    network_verdict: str
    agreement: str

    @property
    def setting(self) -> str:
        """``d=32 K=2 ce``: the shape and loss, as the map's rows are labelled."""
        shape = f"d={self.width}" + (f" K={self.bottleneck}" if self.bottleneck is not None else "")
        return f"{shape} {self.loss}"


def split_requests(
    source: str, objectives: tuple[str, ...], *, seeds: tuple[int, ...], ks: tuple[int, ...],
    widths: tuple[int, ...], bottlenecks: tuple[int, ...] = (), losses: tuple[str, ...] = ("ce",),
    settings: tuple[tuple[str, float | int | str], ...] = (),
) -> list[PretrainRequest]:  # fmt: skip
    """The requests of a split map: every width with each loss, and each bottleneck at the
    widest width.

    Parameters
    ----------
    source : str
        One source.
    objectives : tuple of str
        The first is compared with each other one.
    seeds, ks : tuple of int
        As :class:`~lookaround.simulations.agreement.PretrainRequest`.
    widths : tuple of int
        Widths trained.
    bottlenecks : tuple of int
        Bottleneck dimensions ``K`` tried at ``max(widths)``.
    losses : tuple of str
        ``ce`` and/or ``spectral``.
    settings : tuple of (str, value)
        Other training settings (steps, ...).

    Returns
    -------
    list of PretrainRequest

    Examples
    --------
    >>> reqs = split_requests("markov", ("ar", "mlm:2"), seeds=(0, 1), ks=(2,), widths=(2, 32),
    ...                       bottlenecks=(2,))
    >>> [(r.widths, dict(r.settings).get("bottleneck")) for r in reqs]
    [((2, 32), None), ((), 2)]
    """
    out = []
    for loss in losses:
        base = (*settings, ("loss", loss))
        out.append(PretrainRequest((source,), objectives, seeds, ks, tuple(sorted(base)),
                                   widths=widths))  # fmt: skip
        for k in bottlenecks:
            shape = (*base, ("width", max(widths)), ("bottleneck", k))
            out.append(PretrainRequest((source,), objectives, seeds, ks, tuple(sorted(shape))))
    return out


def split_map(rows: Iterable[AgreementRow]) -> tuple[SplitCell, ...]:
    """The split map's cells from the rows of any number of pretraining tables.

    Parameters
    ----------
    rows : iterable of AgreementRow
        Rows of :class:`~lookaround.simulations.pretrain_runs.PretrainTable` s.

    Returns
    -------
    tuple of SplitCell
        The probes of :data:`SPLIT_METRICS`, one cell per setting, comparison and ``k``.
    """
    keys = {m.label: m.key for m in PRETRAIN_METRICS}
    return tuple(
        SplitCell(
            r.source,
            r.first,
            r.other,
            r.width,
            r.bottleneck,
            r.loss,
            keys[r.metric],
            r.k,
            r.exact_verdict,
            r.network_verdict,
            r.agreement,
        )  # fmt: skip
        for r in rows
        if keys.get(r.metric) in SPLIT_METRICS
    )


def format_split_map(cells: tuple[SplitCell, ...]) -> str:
    """The split map as text: one block per comparison, a row per setting, a column per probe
    and ``k``; ``=`` agree, ``x`` disagree, ``?`` unresolved, ``a`` ambiguous.

    Parameters
    ----------
    cells : tuple of SplitCell
        From :func:`split_map`.

    Returns
    -------
    str
    """
    blocks: dict[tuple, list[SplitCell]] = {}
    for c in cells:
        blocks.setdefault((c.source, c.first, c.other), []).append(c)
    lines: list[str] = []
    for (source, first, other), block in blocks.items():
        columns = list(dict.fromkeys((c.metric, c.k) for c in block))
        settings = list(dict.fromkeys(c.setting for c in block))
        found = {(c.setting, c.metric, c.k): c for c in block}
        exact = {(c.metric, c.k): c.exact_verdict for c in block}
        header = ["setting", *(m.removeprefix("probe_") + ("" if k is None else f"@{k}")
                               for m, k in columns)]  # fmt: skip
        table = [header, ["exact winner", *(_winner(exact[col], first, other) for col in columns)]]
        for setting in settings:
            table.append([setting, *(_SYMBOL[found[setting, *col].agreement]
                                     if (setting, *col) in found else "" for col in columns)])  # fmt: skip
        lines.append(f"{source}: {first} vs {other}")
        lines += aligned(table)
    note = ("= agree, x disagree, ? unresolved (the networks' paired difference within 2 "
            "standard errors), a ambiguous (s_k = s_(k+1)). t1: T1's map at k; full: at full "
            "rank; raw: pattern-averaged states; pca: their top-k principal directions; pooled: "
            "mean-pooled states. The exact side of raw, pca and pooled is T1's at k.")  # fmt: skip
    return "\n".join(lines + textwrap.wrap(note, TABLE_WIDTH))


def _winner(verdict: str, first: str, other: str) -> str:
    return {"first": first, "other": other}.get(verdict, verdict)
