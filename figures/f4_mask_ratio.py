"""Figure 4: what the mask ratio does to the spectrum, phi, connectivity and clustering."""

from __future__ import annotations

from matplotlib.figure import Figure

from lookaround.figures.style import styled
from lookaround.figures.sweeps import draw_sweep, plot_sweep, sweep_source

__all__ = ["CAPTION", "NAME", "draw", "plot_sweep"]

NAME = "mask_ratio"
CAPTION = (
    "mlm:m on a two-class HMM with T=7 (k=2): s_{k+1}, phi and alpha, the sample graph's "
    "within-class gap, and k-means ARI of exact averaged features, against the mask ratio m/T "
    "for m = 1..T-1 (m = T leaves nothing visible); dashed: ar. A panel whose values move less "
    "than 0.02 shows a window of 0.02 and prints how far they move."
)


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 4 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    length = sweep_source().length
    counts = list(range(1, length))  # at m = T no token is visible: no context to read
    return draw_sweep(
        [m / length for m in counts], [f"mlm:{m}" for m in counts], "mask ratio m/T", "mlm", fig=fig
    )
