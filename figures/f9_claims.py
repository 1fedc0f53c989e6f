"""Figure 9: the claim table as a heatmap, claim x source."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lookaround.figures.style import DIVERGING, WIDE, figure, styled
from lookaround.simulations.claims import DEFAULT_SOURCES, check_claims, summarize

__all__ = ["CAPTION", "NAME", "draw"]

NAME = "claims"
CAPTION = (
    "The claim table (lookaround check): color is (rows holding - rows failing) / rows for "
    "each claim and source; the text gives holds/fails/ties."
)


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 9 into ``fig`` (a new figure by default) and return it."""
    summary = summarize(check_claims(DEFAULT_SOURCES))
    claims = sorted({key.split("/")[0] for key in summary})
    score = np.zeros((len(claims), len(DEFAULT_SOURCES)))
    fig, ax = figure(WIDE, 2.2, fig)
    for i, claim in enumerate(claims):
        for j, source in enumerate(DEFAULT_SOURCES):
            c = summary[f"{claim}/{source}"]
            total = c["holds"] + c["fails"] + c["tie"]
            score[i, j] = (c["holds"] - c["fails"]) / total
            ax.text(
                j,
                i,
                f"{c['verdict']}\n{c['holds']}/{c['fails']}/{c['tie']}",
                ha="center",
                va="center",
                fontsize=7,
                # the map's ends are dark: light text there, dark text in the pale middle
                color="white" if abs(score[i, j]) > 0.6 else "black",
            )
    image = ax.imshow(score, cmap=DIVERGING, vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(DEFAULT_SOURCES)), DEFAULT_SOURCES)
    ax.set_yticks(range(len(claims)), claims)
    fig.colorbar(image, ax=ax, label="(holds - fails) / rows")
    return fig
