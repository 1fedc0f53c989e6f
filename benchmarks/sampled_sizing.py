"""The sampled evaluation's time and memory, measured against its model, on a preset past
enumeration.

One short training per objective (the weights do not change the cost), then the theory's side
(:func:`~lookaround.simulations.sampled.sampled_theory`), the held-out draws, the network's
reads and the metrics, each timed; the sum is set beside
:func:`~lookaround.simulations.evaluations.evaluation_seconds`, and the peak resident memory
beside :func:`~lookaround.simulations.evaluations.evaluation_bytes`. The belief maps of
``--belief`` on the same draws are timed apart, beside the model's share for them.

    python benchmarks/sampled_sizing.py [--source ginc] [--n 20000]
"""

from __future__ import annotations

import argparse
import functools
import resource
import time

from lookaround.simulations.architectures import TransformerConfig
from lookaround.simulations.beliefs import sampled_belief_geometry
from lookaround.simulations.evaluations import evaluation_bytes, evaluation_seconds
from lookaround.simulations.sampled import draw_evaluation, evaluate_sampled, sampled_theory
from lookaround.simulations.training import TrainingConfig
from lookaround.simulations.transformer import (
    context_layers,
    pretrain_transformer,
    sampled_outputs,
)
from lookaround.theory.pattern_laws import pattern_law
from lookaround.theory.presets import resolve_source


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", default="ginc")
    parser.add_argument("--objectives", default="ar,mlm:2,vmlm")
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args()
    source, shape, ks = resolve_source(args.source), TransformerConfig(), (2, 4)
    for objective in args.objectives.split(","):
        run = pretrain_transformer(source, objective, config=TrainingConfig(steps=50, batch=64),
                                   architecture=shape, seed=0)  # fmt: skip
        clock = [time.perf_counter()]

        def lap(clock: list[float] = clock) -> float:
            clock.append(time.perf_counter())
            return clock[-1] - clock[-2]

        theory = sampled_theory(source, objective, n=args.n, ks=ks)
        theory_s = lap()
        draws = draw_evaluation(source, objective, n=args.n, seed=1)
        draws_s = lap()
        outputs = sampled_outputs(run, draws)
        read_s = lap()
        evaluate_sampled(outputs, draws, theory.feature_map.feature_map, ks=ks, seed=1)
        metrics_s = lap()
        sampled_belief_geometry(functools.partial(context_layers, run), source, draws.tokens,
                                visible=draws.visible, target=draws.target,
                                weights=draws.weights, seed=1)  # fmt: skip
        belief_s = lap()
        measured = draws_s + read_s + metrics_s
        size = dict(n=args.n, length=source.length, classes=source.n_classes,
                    states=source.init.shape[1], width=shape.width, layers=shape.layers, ks=ks,
                    causal=pattern_law(objective, source.length).causal)  # fmt: skip
        model = evaluation_seconds(**size)
        belief_model = evaluation_seconds(**size, belief=True) - model
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        modelled = evaluation_bytes(n=args.n, length=source.length, vocab=source.vocab,
                                    width=shape.width)  # fmt: skip
        print(f"{args.source} {objective:<6} n={args.n}: theory side {theory_s:5.1f} s; network "
              f"side {measured:5.1f} s (draws {draws_s:.1f}, reads {read_s:.1f}, metrics "
              f"{metrics_s:.1f}) against {model:5.1f} s modelled ({model / measured:.2f}x); "
              f"peak {peak / 2**20:,.0f} MB against {modelled / 2**20:,.0f} MB; belief maps "
              f"{belief_s:.1f} s against {belief_model:.1f} s modelled "
              f"({belief_model / belief_s:.2f}x)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
