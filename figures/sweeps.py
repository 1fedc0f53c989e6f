"""Shared sweep for figures 4 and 5: exact and clustering metrics along a family of objectives."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lookaround.base.seeds import streams
from lookaround.figures.style import WIDE, figure, legend_outside, line_style
from lookaround.simulations.data import draw_patterns
from lookaround.simulations.evaluate import (
    averaged_features,
    classification_metrics,
    exact_dense_cooccurrence,
)
from lookaround.simulations.tabular import exact_spectral_model
from lookaround.theory.analysis import analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import Source, source_from_dict

__all__ = ["K", "PANELS", "draw_sweep", "metrics", "plot_sweep", "sweep_source"]

K = 2


def sweep_source() -> Source:
    """A two-class HMM with T=7, long enough for a fine mask-ratio grid (seeded)."""
    rng = np.random.default_rng(11)
    rows = lambda *shape: rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]).tolist()  # noqa: E731
    return source_from_dict(
        {
            "family": "hmm",
            "prior": [0.5, 0.5],
            "init": rows(2, 2),
            "trans": rows(2, 2, 2),
            "emit": rows(2, 2, 3),
            "length": 7,
            "name": "hmm-T7",
        }
    )


def metrics(source: Source, spec: str, seed: int = 0) -> dict:
    """
    Parameters
    ----------
    source : Source
    spec : str
        An objective.
    seed : int

    Returns
    -------
    dict
    """
    objective = parse_objective(spec, source.length)
    res = analyze(source, objective, K)
    a, _ = exact_dense_cooccurrence(source, objective)
    model = exact_spectral_model(a, objective, vocab=source.vocab, k=K)
    held = draw_patterns(source, objective, 2000, seed=streams(seed).bundle_heldout)
    clustering = classification_metrics(
        averaged_features(model, objective, held.tokens), held.classes, source.n_classes, seed=seed
    )
    return {
        "s_k1": res.level("context").singular_values[K],
        "phi": res.level("context").phi,
        "alpha": res.level("sample").alpha,
        "support": res.level("sample").connectivity.support_fraction,
        "gap": res.level("sample").connectivity.within_class_gap,
        "ari": clustering.ari,
    }


PANELS = {
    "s_k1": "$s_{k+1}$",
    "phi": "$\\phi$ / $\\alpha$",
    "gap": "within-class gap",
    "ari": "k-means ARI on $h(x)$",
}


SPAN = 0.02  # the least range a panel shows: a smaller change is said in words, not stretched


def plot_sweep(
    xs: Sequence[float],
    rows: Sequence[dict],
    *,
    key: str,
    family: str,
    reference: dict | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One metric of :func:`metrics` (``rows``, one per objective) along ``xs``; ``phi`` is
    drawn with the sample level's ``alpha`` beside it. Returns the Axes drawn into.

    Parameters
    ----------
    xs : sequence of float
        The swept values.
    rows : sequence of dict
        The metrics at each value (:func:`metrics`).
    key : str
        The metric drawn.
    family : str
    reference : dict, optional
        The metrics of a reference objective (``ar``), drawn as a dashed level line.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> rows = [{"s_k1": 0.3, "phi": 0.2, "alpha": 0.25}, {"s_k1": 0.2, "phi": 0.1, "alpha": 0.2}]
    >>> len(plot_sweep([1, 2], rows, key="phi", family="mlm").get_lines())
    2
    """
    if ax is None:
        ax = figure(WIDE / 4, 1.9, None)[1]
    assert ax is not None
    style = line_style(family)
    ax.plot(xs, [r[key] for r in rows], label="context" if key == "phi" else None, **style)
    if key == "phi":
        sample = {**style, "marker": "s", "linestyle": ":"}
        ax.plot(xs, [r["alpha"] for r in rows], alpha=0.6, label="sample", **sample)
    if reference is not None:
        ax.axhline(reference[key], color="#000000", ls="--", lw=0.8, label="ar")
    ax.set_ylabel(PANELS.get(key, key))
    # values close to 1 would otherwise read as "1e-6 + 9.988e-1"
    ax.ticklabel_format(axis="y", useOffset=False)
    _at_least_span(ax, [r[key] for r in rows] + ([reference[key]] if reference else []))
    if all(float(x).is_integer() for x in xs):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def _at_least_span(ax: Axes, values: list) -> None:
    """A panel whose values move less than :data:`SPAN` shows a window of that width, and says
    by how much they move, instead of stretching a change in the fourth decimal over the axis."""
    low, high = float(np.min(values)), float(np.max(values))
    if high - low >= SPAN:
        return
    middle = (low + high) / 2
    ax.set_ylim(middle - SPAN / 2, middle + SPAN / 2)
    ax.text(0.02, 0.03, f"range {high - low:.1e}", transform=ax.transAxes, fontsize="x-small")


def draw_sweep(
    xs: list, specs: list[str], xlabel: str, family: str, *, fig: Figure | None = None
) -> Figure:
    """Four panels of :func:`metrics` along ``specs`` (drawn at ``xs``), into ``fig``.

    Parameters
    ----------
    xs : list
        The swept values.
    specs : list of str
        The objectives at each value.
    xlabel : str
    family : str
        The swept family, for the title.
    fig : matplotlib.figure.Figure, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    source = sweep_source()
    rows = [metrics(source, spec) for spec in specs]
    reference = metrics(source, "ar")
    fig, axes = figure(WIDE, 1.9, fig, ncols=len(PANELS))
    for ax, key in zip(axes, PANELS):
        plot_sweep(xs, rows, key=key, family=family, reference=reference, ax=ax)
        ax.set_xlabel(xlabel)
    legend_outside(
        fig, axes[1], ncols=3, title="$\\phi$ (context) and $\\alpha$ (sample); dashed: ar"
    )
    return fig
