"""The installed package's modules, as the structure, layer, docstring and doctest checks walk
them: every package and every module in it, read from the installed ``lookaround``."""

from __future__ import annotations

import importlib
import pkgutil

# Bottom to top, the order of the layers.
PACKAGES = ("lookaround.base", "lookaround.theory", "lookaround.simulations",
            "lookaround.figures", "lookaround.cli", "lookaround")  # fmt: skip
RUNS_ON_IMPORT = "lookaround.__main__"  # importing it calls main() on pytest's argv


def module_names(*, importable: bool = True) -> list[str]:
    """Every package of :data:`PACKAGES` and every module in it, sorted; ``importable`` leaves
    out :data:`RUNS_ON_IMPORT`."""
    names = set(PACKAGES)
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        names |= {f"{package}.{m.name}" for m in pkgutil.iter_modules(path) if not m.ispkg}
    return sorted(names - ({RUNS_ON_IMPORT} if importable else set()))
