"""The split map drawn: which network settings and probes agree with the exact theory (§10.5)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from lookaround.figures.style import WIDE, figure
from lookaround.simulations.split_map import SplitCell

__all__ = ["plot_split_map"]

_VERDICTS = ("agree", "unresolved", "disagree", "ambiguous")
_COLOURS = ("#4daf4a", "#dddddd", "#e41a1c", "#984ea3")


def plot_split_map(cells: Sequence[SplitCell], *, ax: Axes | None = None) -> Axes:
    """One comparison's split map: a row per setting, a column per probe and ``k``, coloured
    by the row's verdict (agree, unresolved, disagree, ambiguous).

    Parameters
    ----------
    cells : sequence of SplitCell
        From :func:`lookaround.simulations.split_map.split_map`, of one source and comparison.
    ax : matplotlib.axes.Axes, optional
        Where to draw; unset makes a figure (a legend of the verdicts goes under it).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if len({(c.source, c.first, c.other) for c in cells}) != 1:
        raise ValueError("a split map draws one source and comparison at a time")
    if ax is None:
        ax = figure(WIDE, 2.6, None)[1]
    assert ax is not None
    settings = list(dict.fromkeys(c.setting for c in cells))
    columns = list(dict.fromkeys((c.metric, c.k) for c in cells))
    grid = np.full((len(settings), len(columns)), np.nan)
    for c in cells:
        grid[settings.index(c.setting), columns.index((c.metric, c.k))] = _VERDICTS.index(
            c.agreement
        )
    ax.imshow(np.ma.masked_invalid(grid), cmap=ListedColormap(_COLOURS), vmin=-0.5, vmax=3.5,
              aspect="auto")  # fmt: skip
    ax.set_xticks(range(len(columns)),
                  [m.removeprefix("probe_") + ("" if k is None else f"@{k}") for m, k in columns],
                  fontsize="x-small")  # fmt: skip
    ax.set_yticks(range(len(settings)), settings, fontsize="x-small")
    first = cells[0]
    ax.set_title(f"{first.source}: {first.first} vs {first.other}", fontsize="small")
    ax.figure.legend(handles=[Patch(color=c, label=v) for v, c in zip(_VERDICTS, _COLOURS)],
                     loc="outside lower center", ncols=4, fontsize="x-small", frameon=False)  # fmt: skip
    return ax
