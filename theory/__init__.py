"""Pure mathematics of lookaround: sources, objectives, co-occurrence, graphs, spectra, bounds.

Nothing here imports ``simulations`` or ``figures``; every quantity is exact, computed from
the source's model, following ``docs/theory.md`` of the repository.
"""
