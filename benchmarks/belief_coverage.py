"""Coverage of a sampled belief R^2's interval: trained networks, their population ``R^2_*``
against intervals from held-out draws.

For each objective one transformer is trained on an enumerable source. The truth is each
layer's ``R^2_*`` over the whole population (``belief_geometry(..., best=True)``). The sampled
belief geometry is repeated over ``--evaluations`` evaluation seeds (only the draws change),
each with ``--n`` sequences, and the count of intervals containing ``R^2_*`` is printed per
layer and belief: for the bracketing interval the package reports, and, as the control, for
a central interval about the cross-fitted estimate alone (the same half-width), which ignores
that estimate's downward bias.

    python benchmarks/belief_coverage.py [--source markov] [--n 500] [--evaluations 100]
"""

from __future__ import annotations

import argparse
import functools
import time

from scipy.stats import t as student

from lookaround.simulations.architectures import TransformerConfig
from lookaround.simulations.beliefs import belief_geometry, sampled_belief_geometry
from lookaround.simulations.crossfit import CONFIDENCE, CrossFit
from lookaround.simulations.pretrain import population
from lookaround.simulations.sampled import draw_evaluation
from lookaround.simulations.training import TrainingConfig
from lookaround.simulations.transformer import context_layers, pretrain_transformer
from lookaround.theory.intervals import Interval
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

BRACKET = CrossFit.interval


def _central(self: CrossFit, columns: slice = slice(None), confidence: float = CONFIDENCE):
    """The control: the cross-fitted estimate plus or minus its own half-width."""
    estimate, half = self._ratio(self.coefficients(), columns)
    quantile = float(student.ppf(0.5 + confidence / 2, self.gram.shape[0] - 1))
    return Interval(estimate, estimate - quantile * half, estimate + quantile * half)


def _covered(geometry, truth: dict, hits: dict) -> None:
    for fit in geometry.fits:
        for target in ("class", "state"):
            low, high = getattr(fit, f"{target}_r2_ci")
            if low is not None:
                hits[fit.layer, target] += bool(low <= truth[fit.layer, target] <= high)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", default="markov")
    parser.add_argument("--objectives", default="ar,mlm:2")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--evaluations", type=int, default=100)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    source, pop = preset_source(args.source), population(preset_source(args.source))
    print(f"source {args.source}, n = {args.n} sequences per evaluation, {args.evaluations} "
          f"evaluations, width 32, {args.steps} training steps")  # fmt: skip
    for objective in args.objectives.split(","):
        run = pretrain_transformer(source, objective, config=TrainingConfig(steps=args.steps),
                                   architecture=TransformerConfig(), seed=0)  # fmt: skip

        read = functools.partial(context_layers, run)
        best = belief_geometry(read, source, parse_objective(objective, source.length),
                               pop.tokens, pop.mass, seed=0, best=True)  # fmt: skip
        truth = {(f.layer, t): getattr(f, f"{t}_r2") for f in best.fits for t in ("class", "state")}
        hits = {kind: dict.fromkeys(truth, 0) for kind in ("bracket", "central")}
        start = time.perf_counter()
        for seed in range(1, args.evaluations + 1):
            draws = draw_evaluation(source, objective, n=args.n, seed=seed)
            for kind, interval in (("bracket", BRACKET), ("central", _central)):
                CrossFit.interval = interval  # type: ignore[method-assign]
                _covered(sampled_belief_geometry(read, source, draws.tokens, visible=draws.visible,
                                                 target=draws.target, weights=draws.weights,
                                                 seed=seed), truth, hits[kind])  # fmt: skip
            CrossFit.interval = BRACKET  # type: ignore[method-assign]
        seconds = (time.perf_counter() - start) / args.evaluations / 2
        print(f"\n{objective}: {seconds:.2f} s per sampled belief geometry")
        for key, value in truth.items():
            counts = "  ".join(f"{kind} {hits[kind][key]:>3}/{args.evaluations} = "
                               f"{hits[kind][key] / args.evaluations:.2f}" for kind in hits)  # fmt: skip
            print(f"  {key[0]:<10} {key[1]:<6} R^2_* {value:.4f}  {counts}")


if __name__ == "__main__":
    main()
