"""Shared sweep for figures 4 and 5: exact and clustering metrics along a family of objectives."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

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
from lookaround.theory.seeds import streams
from lookaround.theory.sources import Source, source_from_dict

__all__ = ["K", "draw_sweep", "metrics", "sweep_source"]

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
    objective = parse_objective(spec, source.length)
    res = analyze(source, objective, K)
    a, _ = exact_dense_cooccurrence(source, objective)
    model = exact_spectral_model(a, objective, source.vocab, K)
    held = draw_patterns(source, objective, 2000, streams(seed).bundle_heldout)
    clustering = classification_metrics(
        averaged_features(model, objective, held.tokens), held.classes, source.n_classes, seed
    )
    return {
        "s_k1": res.level("context").spectrum[K],
        "phi": res.level("context").disagreement,
        "alpha": res.level("sample").disagreement,
        "support": res.level("sample").connectivity.support_fraction,
        "gap": res.level("sample").connectivity.within_class_gap,
        "ari": clustering.ari,
    }


def draw_sweep(
    xs: list, specs: list[str], xlabel: str, family: str, *, fig: Figure | None = None
) -> Figure:
    """Four panels of :func:`metrics` along ``specs`` (drawn at ``xs``), into ``fig``."""
    source = sweep_source()
    rows = [metrics(source, spec) for spec in specs]
    panels = [
        ("s_k1", "$s_{k+1}$"),
        ("phi", "$\\phi$ / $\\alpha$"),
        ("gap", "within-class gap"),
        ("ari", "k-means ARI on $h(x)$"),
    ]
    fig, axes = figure(WIDE, 1.9, fig, ncols=4)
    style = line_style(family)
    for ax, (key, label) in zip(axes, panels):
        ax.plot(xs, [r[key] for r in rows], label="context" if key == "phi" else None, **style)
        if key == "phi":
            sample = {**style, "marker": "s", "linestyle": ":"}
            ax.plot(xs, [r["alpha"] for r in rows], alpha=0.6, label="sample", **sample)
            legend_outside(fig, ax, ncols=2, title="$\\phi$ (context) and $\\alpha$ (sample)")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(label)
        # values close to 1 would otherwise read as "1e-6 + 9.988e-1"
        ax.ticklabel_format(axis="y", useOffset=False)
        if all(float(x).is_integer() for x in xs):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig
