"""Figure 5: diversity-enhanced AR, the same metrics against the look-ahead J."""

from __future__ import annotations

from matplotlib.figure import Figure

from lookaround.figures.style import styled
from lookaround.figures.sweeps import draw_sweep, plot_sweep, sweep_source

__all__ = ["CAPTION", "NAME", "draw", "plot_sweep"]

NAME = "diversity"
CAPTION = (
    "dar:J on the same HMM: the metrics of figure 4 against the look-ahead J (J=1 is ar, the "
    "dashed line); panels whose values move less than 0.02 print how far they move."
)


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 5 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    reaches = list(range(1, sweep_source().length))
    # J = 1 is ar itself (dar:J is defined for 2 <= J <= T-1)
    specs = ["ar"] + [f"dar:{j}" for j in reaches[1:]]
    return draw_sweep(reaches, specs, "look-ahead J", "dar", fig=fig)
