"""Figure 9: the robust claim table (``lookaround check``) as a heatmap, claim x source."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lookaround.figures.style import DIVERGING, WIDE, figure, styled
from lookaround.simulations.claims import DEFAULT_SOURCES
from lookaround.simulations.robust import SHORT, RobustRow, robust_rows, tally
from lookaround.theory.presets import resolve_source

__all__ = ["CAPTION", "NAME", "draw", "plot_claims"]

NAME = "claims"
CAPTION = (
    "The robust claim table (lookaround check) on the six presets: each exact row of C2-C4 "
    "compared at every mask count m, look-ahead J and k. Cell text counts the rows that hold "
    "at every setting (H) or wherever decided (h: the other settings tie or are ambiguous), "
    "fail likewise (F, f), depend on the setting (D), or tie (T everywhere, t wherever "
    "compared); colour is (holding - failing rows) / rows."
)


def plot_claims(rows: Sequence[RobustRow], *, ax: Axes | None = None) -> Axes:
    """Heatmap of robust rows, claim x source: the count of each row verdict (the letters of
    :data:`~lookaround.simulations.robust.SHORT_KEY`), coloured by (rows holding - rows
    failing, everywhere or wherever decided) / rows.

    ``rows`` come from :func:`lookaround.simulations.robust.robust_rows` (or ``.robust`` of
    :func:`~lookaround.simulations.robust.check`). Returns the Axes drawn into.

    Parameters
    ----------
    rows : sequence of RobustRow
        Rows of the claim table.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> ax = plot_claims(robust_rows(preset_source("topic"), claims=("C3",)))
    >>> ax.texts[0].get_text()
    '3H'
    """
    if ax is None:
        ax = figure(WIDE, 2.2, None)[1]
    assert ax is not None
    sources = list(dict.fromkeys(r.source for r in rows))
    claims = list(dict.fromkeys(r.claim for r in rows))
    score = np.full((len(claims), len(sources)), np.nan)
    for (i, claim), (j, source) in itertools.product(enumerate(claims), enumerate(sources)):
        cell = [r for r in rows if (r.claim, r.source) == (claim, source)]
        if not cell:
            continue
        holds, fails = (sum(SHORT[r.verdict].upper() == c for r in cell) for c in "HF")
        score[i, j] = (holds - fails) / len(cell)
        text = tally(cell)
        # the map's ends are dark: light text there, dark text in the pale middle
        shade = "white" if abs(score[i, j]) > 0.6 else "black"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color=shade)
    image = ax.imshow(score, cmap=DIVERGING, vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(sources)), sources)
    ax.set_yticks(range(len(claims)), claims)
    ax.set_xlabel("rows: H/F hold/fail at every setting, h/f wherever decided (others tie or are "
                  "ambiguous), D depends, T/t tie everywhere/wherever compared", fontsize=6)  # fmt: skip
    ax.figure.colorbar(image, ax=ax, label="(holding - failing) / rows")
    return ax


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 9 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure(WIDE, 2.2, fig)
    rows = [row for name in DEFAULT_SOURCES for row in robust_rows(resolve_source(name))]
    plot_claims(rows, ax=ax)
    return fig
