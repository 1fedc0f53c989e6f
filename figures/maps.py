"""Drawing a phase map: the signed margin of a claim over one or two knobs of a family."""

from __future__ import annotations

from typing import cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from lookaround.figures.style import COLUMN, DIVERGING, figure, legend_outside, styled

__all__ = ["bridge_ties", "draw_map", "largest_margin", "map_grid", "plot_map"]


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


def plot_map(
    header: dict, rows: list[dict], *, ax: Axes | None = None, panel: bool = False
) -> Axes:
    """A map's margins: a curve over one knob, colour over two (with its own colour bar), the
    zero line between wins and losses, ties crossed, ambiguous cells outlined, and a key of
    these marks above the axes. ``header`` is the request's (``MapRequest.header()``, or a
    results file's first line), ``rows`` its points (``map_point`` rows, or
    :func:`lookaround.base.results.read_records`). Returns the Axes.

    Parameters
    ----------
    header : dict
        A map's header.
    rows : list of dict
        Its rows.
    ax : matplotlib.axes.Axes, optional
    panel : bool
        One panel of a figure that draws the key and one colour bar for every panel: over two
        knobs the colour is the margin over the panel's largest ``|margin|`` (in ``[-1, 1]``,
        the same scale in every panel, whatever the metric's unit), and no key or colour bar
        is drawn here.

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
    if header["y"] is None:
        ties = np.array([v == "tie" for v in verdicts[0]])
        ax.plot(xs, margin[0], color="#0072B2", marker="o", label="margin (> 0: paper's side)")
        ax.axhline(0.0, color="black", linewidth=0.8)
        if ties.any():
            ax.plot(xs[ties], margin[0][ties], "kx", linestyle="none", label="tie")
        ax.set_ylabel("margin")
    else:
        _plot_plane(ax, xs, ys, margin, verdicts, panel=panel)
        ax.set_ylabel(header["y"]["name"])
    if not panel:
        legend_outside(cast(Figure, ax.figure), ax, ncols=3)
    ax.set_xlabel(header["x"]["name"])
    return ax


def _plot_plane(
    ax: Axes, xs: np.ndarray, ys: np.ndarray, margin: np.ndarray, verdicts: list, *, panel: bool
) -> None:
    """The margin over two knobs as colour, with the zero line and the marks of its key."""
    ties = np.array([[v == "tie" for v in line] for line in verdicts])
    ambiguous = np.array([[v == "ambiguous" for v in line] for line in verdicts])
    span = largest_margin(margin) or 1.0  # a map of ties and ambiguous cells alone has none
    shown, limit = (margin / span, 1.0) if panel else (margin, span)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    mesh = ax.pcolormesh(xs, ys, np.ma.masked_invalid(shown), cmap=DIVERGING, norm=norm,
                         shading="nearest")  # fmt: skip
    bridged = bridge_ties(margin, ties)
    signs = np.sign(bridged[np.isfinite(bridged)])  # none where every cell is ambiguous
    if signs.size and signs.min() < 0 < signs.max() and min(xs.size, ys.size) > 1:
        ax.contour(xs, ys, np.ma.masked_invalid(bridged), levels=[0.0], colors="black",
                   linewidths=0.9)  # fmt: skip
        ax.plot([], [], color="black", linewidth=0.9, label="margin = 0")
    if ties.any():
        yy, xx = np.nonzero(ties)
        ax.plot(xs[xx], ys[yy], "kx", markersize=3, linestyle="none",
                label="tie: |margin| within the tolerance")  # fmt: skip
    if ambiguous.any():  # no margin (left white by the mesh): outlined, as the key shows
        yy, xx = np.nonzero(ambiguous)
        ax.plot(xs[xx], ys[yy], "s", mfc="white", mec="0.6", markersize=5, linestyle="none",
                label="ambiguous: s_k = s_(k+1), no verdict")  # fmt: skip
    if not panel:
        ax.figure.colorbar(mesh, ax=ax, label="margin (> 0: paper wins)")


def largest_margin(margins: np.ndarray) -> float:
    """The largest finite ``|margin|`` of a map, 0 when it has none: a two-knob map's colour
    spans it (a panel's margins are divided by it).

    Parameters
    ----------
    margins : ndarray
        The margins; NaN where there is none, infinite where a side's bound is.

    Returns
    -------
    float

    Examples
    --------
    >>> largest_margin(np.array([0.2, -0.5, np.nan, np.inf]))
    0.5
    """
    finite = np.abs(margins[np.isfinite(margins)])
    return float(finite.max()) if finite.size else 0.0


def bridge_ties(margin: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """The margin with each tied cell set to the mean of its neighbours' (ties filled inward,
    a ring at a time), for drawing the zero line alone.

    Left out, a tied cell would cut the line in two where it crosses a band of ties; set to
    its own near-zero value, the line would circle a tie inside a region of one sign. Bridged,
    the line runs through a band and never circles a lone tie. Ambiguous and missing cells
    (NaN, no margin) stay NaN.

    Parameters
    ----------
    margin : ndarray, shape (ny, nx)
        The margins; NaN where there is none.
    ties : ndarray of bool, shape (ny, nx)
        The tied cells.

    Returns
    -------
    ndarray, shape (ny, nx)

    Examples
    --------
    >>> margin = np.array([[1.0, 1e-12, -1.0]])
    >>> bridge_ties(margin, np.array([[False, True, False]]))
    array([[ 1.,  0., -1.]])
    """
    z = np.where(ties, np.nan, margin)
    for _ in range(z.size):
        missing = ties & np.isnan(z)
        padded = np.pad(z, 1, constant_values=np.nan)
        around = np.stack(
            [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]
        )
        known = np.isfinite(around)
        counts = known.sum(axis=0)
        fill = missing & (counts > 0)
        if not fill.any():
            break
        z[fill] = np.where(known, around, 0.0).sum(axis=0)[fill] / counts[fill]
    return z
