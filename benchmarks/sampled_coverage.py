"""Coverage of the sampled evaluation's intervals: one trained network, evaluated exactly and
sampled.

For each objective, one transformer is trained on an enumerable source (same seed, so the same
weights for both evaluations). Its exact population evaluation is the truth; the sampled
evaluation is repeated over ``--evaluations`` independent evaluation seeds (the run's seed is
fixed; only the held-out draws change), each with ``--n`` sequences and every pattern read,
and the count of 95% intervals that contain the exact value is printed per number. T1's map is
the exact one, so the intervals are judged on the estimator alone.

    python benchmarks/sampled_coverage.py [--source markov] [--n 2000] [--evaluations 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lookaround.simulations.agreement import theory_of
from lookaround.simulations.architectures import TransformerConfig
from lookaround.simulations.pretrain import evaluate, population
from lookaround.simulations.sampled import draw_evaluation, evaluate_sampled
from lookaround.simulations.training import TrainingConfig
from lookaround.simulations.transformer import (
    network_outputs,
    pretrain_transformer,
    sampled_outputs,
)
from lookaround.theory.presets import preset_source


def _numbers(ev, k: int) -> dict[str, tuple[float, tuple | None]]:
    out = {
        "generation excess": (ev.generation_excess, ev.generation_excess_ci),
        "objective excess": (ev.objective_excess, ev.objective_excess_ci),
        "probe error, T1 map": (ev.at(k).probe_error, ev.at(k).probe_error_ci),
        "ARI, T1 map": (ev.at(k).ari, ev.at(k).ari_ci),
    }
    for part in ("raw", "pooled"):
        metrics = getattr(ev, part)
        out[f"probe error, {part}"] = (metrics.probe_error, metrics.probe_error_ci)
        out[f"ARI, {part}"] = (metrics.ari, metrics.ari_ci)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", default="markov")
    parser.add_argument("--objectives", default="ar,mlm:2")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--evaluations", type=int, default=100)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--k", type=int, default=2)
    args = parser.parse_args()
    source = preset_source(args.source)
    pop = population(source)
    print(f"source {args.source}, n = {args.n} sequences per evaluation, "
          f"{args.evaluations} evaluations, k = {args.k}, {args.steps} training steps")  # fmt: skip
    for objective in args.objectives.split(","):
        run = pretrain_transformer(source, objective, config=TrainingConfig(steps=args.steps),
                                   architecture=TransformerConfig(), seed=0)  # fmt: skip
        theory = theory_of(args.source, objective)
        exact = _numbers(evaluate(network_outputs(run, theory, pop), theory, pop, source,
                                  ks=(args.k,)), args.k)  # fmt: skip
        hits = dict.fromkeys(exact, 0)
        start = time.perf_counter()
        for seed in range(1, args.evaluations + 1):
            draws = draw_evaluation(source, objective, n=args.n, seed=seed, per_sequence=10**6)
            ev = evaluate_sampled(sampled_outputs(run, draws), draws, theory.feature_map,
                                  ks=(args.k,), seed=seed)  # fmt: skip
            for name, (_, ci) in _numbers(ev, args.k).items():
                assert ci is not None
                hits[name] += bool(ci[0] <= exact[name][0] <= ci[1])
        seconds = (time.perf_counter() - start) / args.evaluations
        print(f"\n{objective}: {seconds:.2f} s per sampled evaluation")
        for name, count in hits.items():
            rate = count / args.evaluations
            print(f"  {name:<26} exact {exact[name][0]:.4f}  covered {count:>3}/{args.evaluations}"
                  f" = {rate:.2f}")  # fmt: skip
    np.set_printoptions()


if __name__ == "__main__":
    main()
