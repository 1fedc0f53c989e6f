"""lookaround: exact checks of *Look Ahead or Look Around?* (AR vs masked pretraining, ICML 2024).

The everyday names are here, one import away; each is imported on first use, so
``import lookaround`` (and every command-line start) stays light:

- sources: :func:`preset_source`, :func:`resolve_source`, :func:`load_source`,
  :func:`source_from_dict`, :class:`Source`;
- objectives: :func:`parse_objective`, :class:`Objective`;
- the exact theory: :func:`analyze` (T1, T2, T2'), :func:`generation_report` (T3),
  :func:`build_cooccurrence`, :func:`spectral_embedding` (T1's features), :func:`certify`;
- beyond exact sizes: :func:`monte_carlo`, :func:`estimate_context`;
- the claims: :func:`check` (every claim at every setting), :func:`robust_rows`,
  :func:`plan_map`, :func:`search_witness`;
- training: :func:`simulate` (tabular models), :func:`pretrain` (transformers beside the exact
  theory, extra ``transformer``), :func:`load_results` (a results file).

The subpackages are layered: :mod:`lookaround.theory` (pure mathematics, docs/theory.md),
:mod:`lookaround.simulations` (simulated pretraining, claim checks, sweeps) built on it, and
:mod:`lookaround.figures` built on both, all on :mod:`lookaround.base` (errors, files, JSON,
seeds, threads). :mod:`lookaround.cli` is the command line.

Examples
--------
>>> import lookaround
>>> source = lookaround.preset_source("markov")
>>> result = lookaround.analyze(source, lookaround.parse_objective("ar", source.length), 2)
>>> round(result.context.phi, 4)
0.4478
>>> lookaround.__version__ == __import__("importlib.metadata").metadata.version("lookaround")
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lookaround.base.version import __version__

# name -> (module, attribute): imported on first access (PEP 562)
_LAZY = {
    "preset_source": ("lookaround.theory.presets", "preset_source"),
    "resolve_source": ("lookaround.theory.presets", "resolve_source"),
    "load_source": ("lookaround.theory.sources", "load_source"),
    "source_from_dict": ("lookaround.theory.sources", "source_from_dict"),
    "Source": ("lookaround.theory.sources", "Source"),
    "parse_objective": ("lookaround.theory.objectives", "parse_objective"),
    "Objective": ("lookaround.theory.objectives", "Objective"),
    "analyze": ("lookaround.theory.analysis", "analyze"),
    "generation_report": ("lookaround.theory.coverage", "generation_report"),
    "build_cooccurrence": ("lookaround.theory.cooccurrence", "build_cooccurrence"),
    "spectral_embedding": ("lookaround.theory.embedding", "spectral_embedding"),
    "certify": ("lookaround.theory.certificates", "certify"),
    "monte_carlo": ("lookaround.theory.montecarlo", "monte_carlo"),
    "estimate_context": ("lookaround.theory.estimates", "estimate_context"),
    "check": ("lookaround.simulations.robust", "check"),
    "robust_rows": ("lookaround.simulations.robust", "robust_rows"),
    "plan_map": ("lookaround.simulations.maps", "plan_map"),
    "search_witness": ("lookaround.simulations.search", "search_witness"),
    "simulate": ("lookaround.simulations.runs", "simulate"),
    "pretrain": ("lookaround.simulations.pretrain_runs", "pretrain"),
    "load_results": ("lookaround.base.results", "load_results"),
}

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from lookaround.base.results import load_results
    from lookaround.simulations.maps import plan_map
    from lookaround.simulations.pretrain_runs import pretrain
    from lookaround.simulations.robust import check, robust_rows
    from lookaround.simulations.runs import simulate
    from lookaround.simulations.search import search_witness
    from lookaround.theory.analysis import analyze
    from lookaround.theory.certificates import certify
    from lookaround.theory.cooccurrence import build_cooccurrence
    from lookaround.theory.coverage import generation_report
    from lookaround.theory.embedding import spectral_embedding
    from lookaround.theory.estimates import estimate_context
    from lookaround.theory.montecarlo import monte_carlo
    from lookaround.theory.objectives import Objective, parse_objective
    from lookaround.theory.presets import preset_source, resolve_source
    from lookaround.theory.sources import Source, load_source, source_from_dict


_SUBPACKAGES = ("base", "theory", "simulations", "figures", "cli")


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:  # lookaround.theory without importing it first
        return importlib.import_module(f"lookaround.{name}")
    if name not in _LAZY:
        raise AttributeError(f"module 'lookaround' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    # what a user reaches for: the public names, not this module's own imports
    return sorted({*__all__, *_SUBPACKAGES})


__all__ = [  # in the order of the module's docstring
    "__version__",
    "preset_source", "resolve_source", "load_source", "source_from_dict", "Source",
    "parse_objective", "Objective",
    "analyze", "generation_report", "build_cooccurrence", "spectral_embedding", "certify",
    "monte_carlo", "estimate_context",
    "check", "robust_rows", "plan_map", "search_witness",
    "simulate", "pretrain", "load_results",
]  # fmt: skip
