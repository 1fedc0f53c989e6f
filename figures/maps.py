"""Drawing a phase map: the signed margin of a claim over one or two knobs of a family."""

from __future__ import annotations

from typing import cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from lookaround.figures.style import COLUMN, DIVERGING, figure, legend_outside, styled

__all__ = ["draw_map", "map_grid", "plot_map"]


def map_grid(header: dict, rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """``(x values, y values, margin[y, x], verdict[y][x])`` of a map's rows, in grid order.

    Parameters
    ----------
    header : dict
        A map's header.
    rows : list of dict
        Its rows.

    Returns
    -------
    xs, ys, margins : ndarray
    verdicts : list
    """
    xs = np.array(header["x"]["values"])
    ys = np.array(header["y"]["values"]) if header["y"] else np.array([0.0])
    x_name, y_name = header["x"]["name"], (header["y"] or {}).get("name")
    where = {(r["config"]["knobs"][x_name], r["config"]["knobs"].get(y_name, 0.0)): r for r in rows}
    margin = np.full((ys.size, xs.size), np.nan)
    verdicts = [["" for _ in xs] for _ in ys]
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            row = where.get((xv, yv))
            if row is not None:
                margin[i, j] = row["margin"]
                verdicts[i][j] = row["verdict"]
    return xs, ys, margin, verdicts


@styled
def draw_map(header: dict, rows: list[dict], fig: Figure | None = None) -> Figure:
    """The margin as colour (two knobs) or as a curve (one knob), zero marked, ties crossed.

    Parameters
    ----------
    header : dict
        A map's header (its request).
    rows : list of dict
        Its rows.
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure(COLUMN, 2.6, fig)
    plot_map(header, rows, ax=ax)
    ax.set_title(
        f"{header['claim']} on {header['map']}: {header['metric']}, "
        f"{header['objectives'][0]} vs {header['objectives'][1]}, k={header['k']}",
        fontsize=6,
    )
    return fig


def plot_map(header: dict, rows: list[dict], *, ax: Axes | None = None) -> Axes:
    """A map's margins: a curve over one knob, colour over two (with its own colour bar), the
    zero line between wins and losses, ties crossed. ``header`` is the request's
    (``MapRequest.header()``, or a results file's first line), ``rows`` its points
    (``map_point`` rows, or :func:`lookaround.base.results.read_records`). Returns the Axes.

    Parameters
    ----------
    header : dict
        A map's header.
    rows : list of dict
        Its rows.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from lookaround.simulations.maps import map_point, plan_map
    >>> request = plan_map("markov2(V=3,T=3)", x="stick=0.2:0.8:3", y=None, claim="C2",
    ...                    metric="phi", k="1", objectives=None)
    >>> ax = plot_map(request.header(), [map_point(c) for c in request.configs()])
    >>> ax.get_ylabel()
    'margin'
    """
    if ax is None:
        ax = figure(COLUMN, 2.6, None)[1]
    assert ax is not None
    xs, ys, margin, verdicts = map_grid(header, rows)
    ties = np.array([[v == "tie" for v in line] for line in verdicts])
    if header["y"] is None:
        ax.plot(xs, margin[0], color="#0072B2", marker="o", label="margin (> 0: paper's side)")
        ax.axhline(0.0, color="black", linewidth=0.8)
        if ties.any():
            ax.plot(xs[ties[0]], margin[0][ties[0]], "kx", linestyle="none", label="tie")
        ax.set_ylabel("margin")
        legend_outside(cast(Figure, ax.figure), ax, ncols=2)
    else:
        finite = margin[np.isfinite(margin)]
        span = float(np.max(np.abs(finite))) if finite.size and np.any(finite) else 1.0
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span)
        mesh = ax.pcolormesh(xs, ys, np.ma.masked_invalid(margin), cmap=DIVERGING, norm=norm,
                             shading="nearest")  # fmt: skip
        # the zero line between wins and losses; exact ties are left out of it, or it would
        # circle every tied point
        decided = np.ma.masked_where(ties | ~np.isfinite(margin), margin)
        if decided.min() < 0 < decided.max() and min(xs.size, ys.size) > 1:
            ax.contour(xs, ys, decided, levels=[0.0], colors="black", linewidths=0.9)
        if ties.any():
            yy, xx = np.nonzero(ties)
            ax.plot(xs[xx], ys[yy], "kx", markersize=3, linestyle="none")
        # an ambiguous cell has no margin (left white by the mesh): outlined, as the key shows
        ambiguous = np.array([[v == "ambiguous" for v in line] for line in verdicts])
        if ambiguous.any():
            yy, xx = np.nonzero(ambiguous)
            ax.plot(xs[xx], ys[yy], "s", mfc="white", mec="0.6", markersize=5, linestyle="none")
        ax.set_ylabel(header["y"]["name"])
        ax.figure.colorbar(mesh, ax=ax, label="margin (> 0: paper wins)")
    ax.set_xlabel(header["x"]["name"])
    return ax
