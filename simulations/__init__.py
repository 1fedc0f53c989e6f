"""Simulated pretraining on synthetic sources: models, training, evaluation, claim checks, sweeps.

Built on ``theory`` (which never imports this package): every trained number is set beside
the exact one it should approach.
"""
