"""The bottom layer: what every layer needs and is not mathematics.

Errors, JSON encoding and reprs, file reading, seeds, thread budgets, background work,
optional extras, the allocator and the version. Modules here import nothing else from
``lookaround``, so ``theory``, ``simulations``, ``figures`` and the CLI all build on them.
"""

__all__: list[str] = []  # a namespace of modules; each module declares its own exports
