"""Figure 1: the three graphs of a tiny example under AR and masked pretraining."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from lookaround.figures.style import (
    CLASS_COLORS,
    WIDE,
    axes_of,
    color,
    figure,
    legends_to_figure,
    styled,
)
from lookaround.theory.analysis import analyze
from lookaround.theory.cooccurrence import build_cooccurrence
from lookaround.theory.graphs import context_graph, context_target_graph, sample_graph
from lookaround.theory.objectives import Objective, as_objective, parse_objective
from lookaround.theory.presets import as_source
from lookaround.theory.sources import Source, source_from_dict

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "draw", "plot_graphs", "tiny_source"]

NAME = "graphs"
CAPTION = (
    "The context-target, context (two-hop) and sample graphs of two deterministic 3-cycles "
    "(class 0: 0->1->2, class 1: 0->2->1), T=3; edge width is weight. Masking spreads each "
    "sample's weight evenly over all samples (higher effective degree) and, here, erases the "
    "class structure (lambda_2 = 0): more connections are not always better clusters. Nodes: "
    "contexts dark, targets amber; samples by their Bayes class (the key under each panel)."
)
OBJECTIVES = ("ar", "mlm:1")


def tiny_source():
    """Two classes walking a 3-cycle in opposite directions from a uniform start."""
    forward, backward = np.roll(np.eye(3), 1, axis=1), np.roll(np.eye(3), -1, axis=1)
    return source_from_dict(
        {
            "family": "markov",
            "prior": [0.5, 0.5],
            "init": [[1 / 3] * 3] * 2,
            "trans": [forward.tolist(), backward.tolist()],
            "length": 3,
            "name": "cycles",
        }
    )


def _bipartite_positions(left: list, right: list) -> dict:
    """Two columns in the given order (networkx's bipartite layout orders through a set, so its
    output would follow ``PYTHONHASHSEED``)."""
    pos = {}
    for x, column in ((-1.0, left), (1.0, right)):
        for y, node in zip(np.linspace(1.0, -1.0, len(column)), column):
            pos[node] = np.array([x, y])
    return pos


def _draw(ax, graph: nx.Graph, pos: dict, node_color, edge_color: str) -> None:
    weights = np.array([w for _, _, w in graph.edges(data="weight")] or [1.0])
    widths = 0.3 + 3.0 * weights / weights.max()
    nx.draw_networkx_edges(graph, pos, ax=ax, width=widths, edge_color=edge_color, alpha=0.5)
    # small enough that the circle's neighbours do not touch (they did at 30)
    size = 30 if graph.number_of_nodes() <= 12 else 12
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=size, node_color=node_color, linewidths=0)
    ax.set_axis_off()


def _node_key(ax, entries: list[tuple[str, str]]) -> None:
    """A legend of what each node colour is."""
    handles = [Line2D([], [], linestyle="none", marker="o", markersize=4, color=c, label=label)
               for label, c in entries]  # fmt: skip
    ax.legend(handles=handles, fontsize="x-small", loc="upper center", ncols=len(handles),
              bbox_to_anchor=(0.5, 0.0), frameon=False, handletextpad=0.2)  # fmt: skip


def plot_graphs(
    source: Source | str,
    objective: Objective | str,
    *,
    ax: Sequence[Axes] | None = None,
    axes: Sequence[Axes] | None = None,
) -> Sequence[Axes]:
    """The context-target, context (two-hop) and sample graphs of ``objective`` on a small
    ``source``, one per Axes, edge width by weight, samples coloured by their Bayes class.
    Returns the three Axes drawn into (new ones by default).

    Parameters
    ----------
    source : Source or str
        A small source, or its name.
    objective : Objective or str
        The objective, or its name.
    ax : sequence of Axes, optional
        Three axes: the context-target, context and sample graphs.
    axes : sequence of Axes, optional
        Deprecated name of ``ax``.

    Returns
    -------
    sequence of Axes

    Examples
    --------
    >>> source = tiny_source()
    >>> [ax.get_title().splitlines()[0] for ax in plot_graphs(source, parse_objective("ar", 3))]
    ['ar: context-target graph', 'ar: context graph', 'ar: sample graph']
    """
    source = as_source(source)
    objective = as_objective(objective, source.length)
    given = axes_of(ax, axes, "plot_graphs")
    chosen: Sequence[Axes] = given if given is not None else figure(WIDE, 2.1, None, ncols=3)[1]
    co = build_cooccurrence(source, objective)
    bip = context_target_graph(co)
    contexts = [n for n, part in bip.nodes(data="bipartite") if part == 0]
    ctx = context_graph(co)
    smp = sample_graph(source, objective)
    classes = nx.get_node_attributes(smp, "label")
    panels = [
        (bip, _bipartite_positions(contexts, [n for n in bip if n[0] == "t"]),
         ["#444444" if n[0] == "c" else "#ffbf00" for n in bip.nodes], "context-target graph"),
        (ctx, nx.circular_layout(ctx), "#444444", "context graph"),
        (smp, nx.circular_layout(smp), [CLASS_COLORS[classes[n]] for n in smp.nodes],
         "sample graph"),
    ]  # fmt: skip
    sample = analyze(source, objective, 1, level="sample").level("sample")
    note = f"eff. degree {sample.effective_degree.value:.2f}, $\\lambda_2$ = {sample.eigenvalues[1]:.2f}"
    for panel, (graph, pos, node_color, title), extra in zip(chosen, panels, ("", "", note)):
        _draw(panel, graph, pos, node_color, color(objective.name))
        edges = f"{graph.number_of_edges()} edges" + (f", {extra}" if extra else "")
        panel.set_title(f"{objective.name}: {title}\n{edges}")
    _node_key(chosen[0], [("context", "#444444"), ("target", "#ffbf00")])
    _node_key(chosen[2], [(f"class {z}", CLASS_COLORS[z]) for z in sorted(set(classes.values()))])
    return chosen


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 1 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    source = tiny_source()
    fig, axes = figure(WIDE, 4.2, fig, nrows=2, ncols=3)
    for row, spec in enumerate(OBJECTIVES):
        plot_graphs(source, parse_objective(spec, source.length), ax=axes[row])
    legends_to_figure(fig, axes.ravel())
    return fig
