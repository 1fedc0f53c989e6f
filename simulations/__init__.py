"""Simulated pretraining on synthetic sources: models, training, evaluation, claim checks, sweeps.

Built on ``theory`` (which never imports this package): every trained number is set beside
the exact one it should approach.
"""

__all__: list[str] = []  # a namespace of modules; each module declares its own exports
