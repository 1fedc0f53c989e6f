"""Figure 10: where the claims hold, as exact phase maps over two source families."""

from __future__ import annotations

from typing import cast

from joblib import Parallel, delayed
from matplotlib.cm import ScalarMappable
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lookaround.base.threads import budgeted
from lookaround.figures.maps import largest_margin, map_grid, plot_map
from lookaround.figures.style import DIVERGING, WIDE, figure, styled
from lookaround.simulations.maps import map_point, plan_map

__all__ = ["CAPTION", "ROWS", "NAME", "PANELS", "draw", "plot_map"]

NAME = "regions"
CAPTION = (
    "Exact signed margins (> 0: the paper's side wins; black line: 0, drawn through bands of "
    "ties; x: tie; white: ambiguous, s_k = s_(k+1) on a side) over two families, 8 x 8 grids, "
    "on one colour scale: each panel's margin over its largest |margin| (in its title). Rows: markov2 (stick x overlap, V=3, T=5) and sbm2 "
    "(p_in x p_out, two blocks of 3, T=4). Columns: C2 on the T2' bound (every k, the "
    "smallest margin), C2 on the probe error of averaged features h(x) (k=2), C3 on T3's "
    "exact excess. The dot marks the family's default; sbm2's is the sbm-walk preset's "
    "p_in = 0.9, p_out = 0.15 (on the expected graph, not one drawn graph)."
)
ROWS = (
    ("markov2(V=3,T=5)", "stick=0.02:0.98:8", "overlap=0:0.48:8", (0.5, 0.1)),
    ("sbm2(size=3,T=4)", "p_in=0.05:1:8", "p_out=0.05:1:8", (0.9, 0.15)),
)
# (claim, metric, k, the panel's title: what the metric is, short enough to sit over a panel)
PANELS = (
    ("C2", "t2p_bound", "all", "T2' bound, every k"),
    ("C2", "averaged_probe_error", "2", "probe error on h(x), k=2"),
    ("C3", "excess", "2", "T3's exact excess"),
)


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 10 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = figure(WIDE, 4.6, fig, nrows=len(ROWS), ncols=len(PANELS))
    for row, (family, x, y, default) in enumerate(ROWS):
        for col, (claim, metric, k, title) in enumerate(PANELS):
            request = plan_map(family, x=x, y=y, claim=claim, metric=metric, k=k, objectives=None)
            # exact and deterministic whatever the order: two processes halve the wait
            # each of the two processes keeps one thread busy (lookaround/base/threads.py)
            points = (delayed(budgeted)(map_point, 1, c) for c in request.configs())
            rows = cast(list[dict], Parallel(n_jobs=2)(points))
            ax = axes[row, col]
            plot_map(request.header(), rows, ax=ax, panel=True)
            ax.plot(*default, "o", color="white", markeredgecolor="black", markersize=4)
            span = largest_margin(map_grid(request.header(), rows)[2])
            ax.set_title(f"{family.split('(')[0]}, {claim}: {title}\n|margin| up to {span:.3g}",
                         fontsize=7)  # fmt: skip
    fig.legend(handles=_KEY, loc="outside upper center", ncols=len(_KEY), frameon=False)
    scale = ScalarMappable(TwoSlopeNorm(vcenter=0.0, vmin=-1.0, vmax=1.0), cmap=DIVERGING)
    fig.colorbar(scale, ax=axes, shrink=0.6, label="margin / the panel's largest |margin| "
                 "(> 0: paper wins)")  # fmt: skip
    return fig


# what the marks of every panel mean, drawn once above them
_KEY = [
    Line2D([], [], color="black", linewidth=0.9, label="margin = 0 (paper wins on the purple side)"),
    Line2D([], [], color="black", marker="x", markersize=3, linestyle="none", label="tie"),
    Patch(facecolor="white", edgecolor="0.6", label="ambiguous: no verdict"),
    Line2D([], [], color="white", marker="o", markeredgecolor="black", markersize=4,
           linestyle="none", label="family default"),
]  # fmt: skip
