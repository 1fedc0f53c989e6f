"""Pure mathematics of lookaround: sources, objectives, co-occurrence, graphs, spectra, bounds.

Nothing here imports ``simulations`` or ``figures``; every quantity is exact, computed from
the source's model, following ``docs/theory.md`` of the repository.
"""

__all__: list[str] = []  # a namespace of modules; each module declares its own exports
