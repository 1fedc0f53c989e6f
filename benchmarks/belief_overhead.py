"""What the extra probes (full-rank T1 map, PCA) and ``--belief`` add to a pretraining run.

One network per objective is trained at the default settings on ``markov`` (the run's own
time); then, in this process, alternating, medians of ``--repeats``: the evaluation as it was
(T1 map, raw and pooled probes, generation), the extra probes alone, and the belief geometry
of every layer. The issue's budget: the extras add at most 25% to a run's time.

    python benchmarks/belief_overhead.py [--steps 3000] [--repeats 3] [--source markov]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from lookaround.simulations.beliefs import belief_geometry
from lookaround.simulations.evaluate import RESTARTS, population_clustering
from lookaround.simulations.pretrain import evaluate, exact_theory, population
from lookaround.simulations.probes import principal_directions, weighted_probe_error
from lookaround.simulations.training import TrainingConfig
from lookaround.simulations.transformer import (
    context_layers,
    network_outputs,
    pretrain_transformer,
)
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source


def _extras(outputs, theory, pop) -> None:
    """The full-rank and PCA probes alone, as :func:`evaluate` computes them."""
    averaged = np.einsum("p,npv->nv", theory.objective.weights, outputs.conditionals)
    for features, intercept in [(averaged @ theory.feature_map, False)] + [
        (hidden @ principal_directions(hidden, pop.mass)[:, :k], True)
        for hidden in [np.einsum("p,npd->nd", theory.objective.weights, outputs.pattern_hidden)]
        for k in (2, 3)
    ]:
        weighted_probe_error(features, pop.class_joint, intercept=intercept)
        population_clustering(features, pop.class_joint, restarts=RESTARTS, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description="the cost of the extra probes and --belief")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", default="markov")
    args = parser.parse_args()
    source = preset_source(args.source)
    pop = population(source)
    for name in ("ar", "mlm:2"):
        theory = exact_theory(source, parse_objective(name, source.length), pop)
        started = time.perf_counter()
        run = pretrain_transformer(source, name, config=TrainingConfig(steps=args.steps))
        training = time.perf_counter() - started
        times: dict[str, list[float]] = {"evaluation": [], "extra probes": [], "belief": []}
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            outputs = network_outputs(run, theory, pop)
            evaluate(outputs, theory, pop, source, ks=(2, 3))
            t1 = time.perf_counter()
            _extras(outputs, theory, pop)
            t2 = time.perf_counter()
            belief_geometry(lambda *a, run=run: context_layers(run, *a), source, theory.objective,
                            pop.tokens, pop.mass, seed=0)  # fmt: skip
            t3 = time.perf_counter()
            times["evaluation"].append(t1 - t0 - (t2 - t1))  # evaluate() includes the extras
            times["extra probes"].append(t2 - t1)
            times["belief"].append(t3 - t2)
        med = {key: statistics.median(v) for key, v in times.items()}
        base = training + med["evaluation"]
        print(f"{args.source} {name}: training {training:.1f} s, evaluation {med['evaluation']:.2f} s"
              f", extra probes {med['extra probes']:.2f} s, belief {med['belief']:.2f} s; the "
              f"extras add {100 * (med['extra probes'] + med['belief']) / base:.1f}% to the run "
              f"({args.steps} steps, medians of {args.repeats})")  # fmt: skip


if __name__ == "__main__":
    main()
