"""The belief table of ``lookaround pretrain --belief``: each layer's belief ``R^2`` per source,
width and objective, over seeds (docs/theory.md §10.6)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

from lookaround.base.reprs import Presented, aligned, short_repr
from lookaround.simulations.agreement import PretrainRequest
from lookaround.simulations.architectures import architecture_config
from lookaround.simulations.records import evaluation_of
from lookaround.simulations.verdicts import TABLE_WIDTH, run_key, seed_spread
from lookaround.theory.presets import resolve_source

__all__ = ["BeliefRow", "belief_table", "format_beliefs"]


@dataclass(frozen=True)
class BeliefRow(Presented):
    """One layer's belief ``R^2`` for one source, width and objective, over seeds.

    Attributes
    ----------
    source, objective : str
        What the networks were trained on.
    width : int
        Their width ``d``.
    bottleneck : int or None
        The dimension ``K`` of their feature layer (None: no bottleneck).
    layer : str
        ``embedding``, ``block b``, ``blocks`` or ``features``
        (:func:`lookaround.simulations.beliefs.layer_names`).
    class_r2, state_r2 : tuple of float
        Mean and sample sd over seeds of the ``R^2`` onto ``P(z | x_S)`` and onto
        ``P(z, h_i | x_S)`` (sd nan over one seed; the class one nan for one class).
    seeds : int
        Networks, one per seed.
    contexts : int
        Contexts each was read on, weighted by ``P(x) w(omega)`` (``w(omega) / n`` sampled).
    class_r2_ci, state_r2_ci : tuple of float, optional
        Sampled only: the lowest and highest end of the seeds' 95% intervals for ``R^2_*``
        (one seed: its interval; ends nan where the targets do not vary).
    sequences : int or None
        Held-out sequences each network was read on, when sampled (None: the population).
    """

    __repr__ = short_repr

    source: str
    objective: str
    width: int
    bottleneck: int | None
    layer: str
    class_r2: tuple[float, float]
    state_r2: tuple[float, float]
    seeds: int
    contexts: int
    class_r2_ci: tuple[float, float] | None = None
    state_r2_ci: tuple[float, float] | None = None
    sequences: int | None = None


def belief_table(request: PretrainRequest, rows: list[dict]) -> tuple[BeliefRow, ...]:
    """The belief rows of ``request`` from its results rows (empty without ``belief``).

    Parameters
    ----------
    request : PretrainRequest
        What was trained.
    rows : list of dict
        Its results rows.

    Returns
    -------
    tuple of BeliefRow
    """
    if not request.belief:
        return ()
    found = {run_key(r["config"]): r for r in rows}
    out = []
    for name in request.sources:
        shown = resolve_source(name).name
        for settings in request.shapes():
            shape = architecture_config(settings)
            for objective in request.objectives:
                runs = [evaluation_of(found[run_key({**settings, "source": name, "objective": objective,
                                                        "seed": seed})]).belief
                        for seed in request.seeds]  # fmt: skip
                geometries = [g for g in runs if g is not None]
                if len(geometries) < len(runs):
                    continue  # rows written without belief
                sequences = geometries[0].sequences
                for fit in geometries[0].fits:
                    each = [g.at(fit.layer) for g in geometries]
                    hulls = ({} if sequences is None else
                             {f"{t}_r2_ci": _hull([getattr(f, f"{t}_r2_ci") for f in each])
                              for t in ("class", "state")})  # fmt: skip
                    out.append(BeliefRow(
                        shown, objective, shape.width, getattr(shape, "bottleneck", None),
                        fit.layer, seed_spread([f.class_r2 for f in each]),
                        seed_spread([f.state_r2 for f in each]), len(each), geometries[0].contexts,
                        sequences=sequences, **hulls,
                    ))  # fmt: skip
    return tuple(out)


def _hull(intervals: list) -> tuple[float, float]:
    """The lowest and highest end of the seeds' intervals (nan where one has none)."""
    ends = np.array([(np.nan, np.nan) if ci is None or None in ci else ci for ci in intervals],
                    dtype=float)  # fmt: skip
    return float(np.min(ends[:, 0])), float(np.max(ends[:, 1]))


def format_beliefs(rows: tuple[BeliefRow, ...]) -> str:
    """The belief table as ``lookaround pretrain --belief`` prints it: one block per source and
    shape, a row per layer, two columns (class, state) per objective.

    Parameters
    ----------
    rows : tuple of BeliefRow
        The table's rows.

    Returns
    -------
    str
    """
    blocks: dict[tuple, list[BeliefRow]] = {}
    for r in rows:
        blocks.setdefault((r.source, r.width, r.bottleneck), []).append(r)
    lines: list[str] = []
    for (source, width, bottleneck), block in blocks.items():
        objectives = list(dict.fromkeys(r.objective for r in block))
        layers = list(dict.fromkeys(r.layer for r in block))
        cell = {(r.objective, r.layer): r for r in block}
        shape = f"width {width}" + (f", bottleneck {bottleneck}" if bottleneck else "")
        contexts = ", ".join(f"{o} {cell[o, layers[0]].contexts:,}" for o in objectives)
        seeds, sequences = block[0].seeds, block[0].sequences
        drawn = "" if sequences is None else f"; sampled, {sequences:,} sequences"
        lines.append(f"belief R^2, {source} ({shape}; {seeds} seed{'s' * (seeds != 1)}; contexts "
                     f"{contexts}{drawn})")  # fmt: skip
        columns = {o: [[f"{o} {t}", *(_cell(cell[o, layer], t) for layer in layers)]
                       for t in ("class", "state")] for o in objectives}  # fmt: skip
        for group in _fitting(["layer", *layers], list(columns.values())):
            table = [["layer", *layers], *(c for o in group for c in o)]
            lines += aligned([list(row) for row in zip(*table)])
    note = ("R^2 of the affine map from a layer's states to the exact posterior, cross-fitted "
            "over two halves of the sequences and weighted by P(x) w(omega); class: P(z | x_S), "
            "n/a for one class; state: P(z, h_i | x_S) at the target. mean±sd over seeds.")  # fmt: skip
    if any(r.sequences is not None for r in rows):
        note += (" Sampled: the mean over seeds and [low, high], the widest span of the seeds' "
                 "95% intervals for R^2_*, the population R^2 of the best affine map.")  # fmt: skip
    return "\n".join(lines + textwrap.wrap(note, TABLE_WIDTH))


def _fitting(first: list[str], objectives: list[list[list[str]]]) -> list[list]:
    """The objectives' columns in groups, each group's table within ``TABLE_WIDTH``."""

    def width(column: list[str]) -> int:
        return 2 + max(map(len, column))  # its widest cell and the gap before it

    groups: list[list] = [[]]
    used = width(first)
    for columns in objectives:
        need = sum(map(width, columns))
        if groups[-1] and used + need > TABLE_WIDTH:
            groups.append([])
            used = width(first)
        groups[-1].append(columns)
        used += need
    return groups


def _cell(row: BeliefRow, target: str) -> str:
    mean, sd = getattr(row, f"{target}_r2")
    if np.isnan(mean):
        return "n/a"
    hull = getattr(row, f"{target}_r2_ci")
    if hull is not None:
        return f"{mean:.3f} [{hull[0]:.3f}, {hull[1]:.3f}]"
    return f"{mean:.3f}±" + ("n/a" if np.isnan(sd) else f"{sd:.3f}")
