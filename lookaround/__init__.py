"""lookaround: exact checks of *Look Ahead or Look Around?* (AR vs masked pretraining, ICML 2024).

The subpackages are layered: :mod:`lookaround.theory` (pure mathematics, docs/theory.md),
:mod:`lookaround.simulations` (simulated pretraining, claim checks, sweeps) built on it, and
:mod:`lookaround.figures` built on both. :mod:`lookaround.cli` is the command line.

Examples
--------
>>> import lookaround
>>> lookaround.__version__ == __import__("importlib.metadata").metadata.version("lookaround")
True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lookaround")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"


def load_results(path):
    """A pandas DataFrame of a results file; see :func:`lookaround.results.load_results`."""
    # Imported on call: ``import lookaround`` (and so every CLI start) stays free of pandas.
    from lookaround.results import load_results as load

    return load(path)


__all__ = ["__version__", "load_results"]
