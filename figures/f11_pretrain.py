"""Figure 11: tiny transformers against the exact theory, per metric and objective (§10)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from lookaround.figures.style import WIDE, figure, legends_to_figure, line_style, styled
from lookaround.simulations.agreement import PretrainRequest, pretrain_point
from lookaround.simulations.verdicts import AgreementRow, agreement_table

__all__ = ["CAPTION", "METRICS", "NAME", "REQUEST", "REQUIRES", "draw", "plot_pretrain"]

NAME = "pretrain"
REQUIRES = ("jax", "transformer")  # without it, `lookaround figures` skips this one and says so
REQUEST = PretrainRequest(
    sources=("markov",), objectives=("ar", "mlm:2", "vmlm"), seeds=(0, 1), ks=(2,),
    settings=(("steps", 400),),
)  # fmt: skip
CAPTION = (
    "Transformers (width 32, 2 layers, 400 steps, seeds 0 and 1) on the markov preset (T=5), "
    "k=2: the exact theory (open markers) against the networks (filled, mean and spread over "
    "seeds). Through T1's map the networks sit on the theory; their raw features do not."
)
METRICS = (
    "probe error, T1 map",
    "probe error, raw pattern-averaged",
    "generation excess (nats)",
)


def plot_pretrain(
    rows: Sequence[AgreementRow], *, metric: str, source: str | None = None, ax: Axes | None = None
) -> Axes:
    """Exact value and network mean ± sd of every objective in ``rows`` on one ``metric``.

    ``rows`` come from :func:`lookaround.simulations.verdicts.agreement_table` (the user's
    own request, or ``lookaround pretrain --json`` read back); ``source`` picks one source when
    the rows hold several. Returns the Axes drawn into (a new one by default).

    Parameters
    ----------
    rows : sequence of AgreementRow
        Rows of a pretraining table.
    metric : str
        The metric's label to draw.
    source : str, optional
        Only this source's rows.
    ax : matplotlib.axes.Axes, optional
        Where to draw; unset makes a figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        ax = figure(WIDE / 3, 2.2, None)[1]
    assert ax is not None
    chosen = [r for r in rows if r.metric == metric and source in (None, r.source)]
    if not chosen:
        raise ValueError(f"no rows of metric {metric!r}" + (f" on {source}" if source else ""))
    points: dict[str, tuple[float, tuple[float, float]]] = {}
    for r in chosen:
        points.setdefault(r.first, (r.exact_first, r.network_first))
        points.setdefault(r.other, (r.exact_other, r.network_other))
    for x, (objective, (exact, (mean, sd))) in enumerate(points.items()):
        style = line_style(objective)
        ax.plot([x - 0.12], [exact], marker=style["marker"], mfc="none", color=style["color"],
                linestyle="none")  # fmt: skip
        ax.errorbar([x + 0.12], [mean], yerr=[sd], marker=style["marker"], color=style["color"],
                    linestyle="none", capsize=2)  # fmt: skip
    seeds = chosen[0].seeds
    spread = f"mean ± sd over {seeds} seeds" if seeds > 1 else "1 seed, no spread"
    ax.legend(handles=[
        Line2D([], [], marker="o", mfc="none", color="#444444", linestyle="none", label="exact"),
        Line2D([], [], marker="o", color="#444444", linestyle="none",
               label=f"networks ({spread})"),
    ], fontsize="x-small", loc="best", frameon=False)  # fmt: skip
    ax.set_xticks(range(len(points)), list(points))
    ax.set_xlim(-0.6, len(points) - 0.4)
    k = chosen[0].k
    ax.set_title(metric + (f", k={k}" if k is not None else ""), fontsize="small")
    return ax


def _rows() -> tuple[AgreementRow, ...]:
    trained = [pretrain_point(config) for config in REQUEST.configs()]
    return agreement_table(REQUEST, trained)


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 11 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = figure(WIDE, 2.3, fig, ncols=len(METRICS))
    rows = _rows()
    for ax, metric in zip(axes, METRICS):
        plot_pretrain(rows, metric=metric, ax=ax)
    axes[0].set_ylabel("value")
    legends_to_figure(fig, axes, ncols=2)
    return fig
