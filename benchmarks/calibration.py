"""Steps for the presets past enumeration: does a network trained half as long learn as much?

For each preset and objective, one transformer (seed 0, the default shape, batch and learning
rate) is trained for each number of steps and evaluated on held-out draws: its final training
loss (mean of the last 50 steps), the sampled objective excess with its 95% interval, and the
seconds of training and evaluation. Where the excess at fewer steps is within the interval of
the excess at more, the fewer are enough for that preset.

Run ``python benchmarks/calibration.py [OBJECTIVE ...]``; two objectives in two processes keep
both cores busy, as ``pretrain --jobs 2`` does.
"""

from __future__ import annotations

import sys
import time

from lookaround.base.threads import thread_budget
from lookaround.simulations.agreement import pretrain_one

PRESETS = ("ginc", "markov20")
STEPS = (1500, 3000)
EVAL_SEQUENCES = 5000


def calibrate(source: str, objective: str, steps: int) -> str:
    """One line: steps, final loss, objective excess [interval], seconds."""
    start = time.perf_counter()
    settings = {"steps": steps, "eval_sequences": EVAL_SEQUENCES}
    with thread_budget(1):  # one thread each, as a pretrain worker has
        final, evaluation = pretrain_one(source, objective, ks=(2,), seed=0, settings=settings)
    low, high = evaluation.objective_excess_ci or (None, None)
    low, high = (float("nan") if v is None else v for v in (low, high))
    return (
        f"{source:<9} {objective:<6} steps {steps:>5}  final loss {final:.4f}  objective "
        f"excess {evaluation.objective_excess:.4f} [{low:.4f}, {high:.4f}]  generation excess "
        f"{evaluation.generation_excess:.4f}  {time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    for objective in sys.argv[1:] or ["ar", "mlm:2"]:
        for source in PRESETS:
            for steps in STEPS:
                print(calibrate(source, objective, steps), flush=True)
