"""Measured time of transformer pretraining runs against the model of ``pretrain_seconds``.

Each row trains one network (``pretrain_transformer``, one thread, as the sweep engine runs it)
at a setting of width, layers, batch, length and steps, and prints the measured seconds, the
modelled seconds and their ratio (the model is refused past ``MAX_PRETRAIN_SECONDS``).

Usage: ``python benchmarks/pretrain_sizing.py``
"""

from __future__ import annotations

import time

from lookaround.base.threads import thread_budget
from lookaround.simulations.architectures import TransformerConfig
from lookaround.simulations.training import TrainingConfig, pretrain_seconds
from lookaround.simulations.transformer import pretrain_transformer
from lookaround.theory.presets import resolve_source

SETTINGS = [
    # (source, objective, width, layers, batch, steps)
    ("topic", "ar", 32, 2, 256, 300),
    ("topic", "ar", 32, 2, 256, 1200),
    ("markov", "mlm:2", 32, 2, 256, 600),
    ("markov", "mlm:2", 64, 2, 256, 600),
    ("markov", "mlm:2", 16, 2, 64, 600),
    ("markov", "mlm:2", 32, 4, 128, 600),
    ("markov2(T=8)", "ar", 32, 2, 256, 600),
    ("markov2(T=10)", "vmlm", 64, 3, 128, 400),
    ("ginc", "ar", 32, 2, 256, 600),
    ("ginc", "vmlm", 32, 2, 256, 600),
]


def main() -> None:
    print(f"{'setting':<52} {'measured':>9} {'model':>7} {'ratio':>6}")
    for name, objective, width, layers, batch, steps in SETTINGS:
        source = resolve_source(name)
        shape = TransformerConfig(width=width, layers=layers)
        config = TrainingConfig(batch=batch, steps=steps)
        start = time.perf_counter()
        with thread_budget(1):
            pretrain_transformer(source, objective, config=config, architecture=shape, seed=0)
        measured = time.perf_counter() - start
        model = pretrain_seconds(shape, config, source.length)
        label = f"{name} {objective} w={width} L={layers} B={batch} steps={steps}"
        print(f"{label:<52} {measured:9.1f} {model:7.1f} {measured / model:6.2f}", flush=True)


if __name__ == "__main__":
    main()
