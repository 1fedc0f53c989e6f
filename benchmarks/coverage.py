"""Coverage of the exact-conditional Monte Carlo intervals on every objective kind, both levels.

For each random source (two classes, ``V = 4``, ``T = 4``, one with an emission probability of
0.009 and others from sparse Dirichlet draws), each objective kind (``ar``, ``mlm:2``,
``dar:2``, ``vmlm``, ``span:2``, ``plm``) and each level, the script runs ``--seeds`` Monte
Carlo estimates of ``N`` draws and prints, for ``phi`` (``alpha`` at the sample level), the
bound and ``s_2`` (``lambda_2``): how many of the 95% intervals cover the exact value, and the
spread of the estimates across seeds against the mean reported standard error (1.0 when the
intervals have the right width).

Usage: ``python benchmarks/coverage.py [--seeds 200] [--n 5000] [--only vmlm]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from random_sources import random_source
from scipy.stats import norm

from lookaround.theory.analysis import analyze
from lookaround.theory.montecarlo import monte_carlo
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import Source, source_from_dict

OBJECTIVES = ("ar", "mlm:2", "dar:2", "vmlm", "span:2", "plm")
Z = float(norm.ppf(0.975))


def tiny_iid() -> Source:
    """The report's kind of source: iid tokens, one emission probability 0.009."""
    emit = [[0.009, 0.331, 0.33, 0.33], [0.4, 0.3, 0.2, 0.1]]
    spec = {"family": "iid", "prior": [0.5, 0.5], "emit": emit, "length": 4}
    return source_from_dict(spec, name="iid V=4 T=4 (0.009)")


def sources() -> list[Source]:
    return [
        tiny_iid(),
        random_source("hmm", 4, 4, 2, trans=0.5, emit=0.3, seed=3, name="hmm V=4 T=4 H=2 sparse"),
        random_source("markov", 4, 4, trans=0.3, seed=4, name="markov V=4 T=4 sparse"),
    ]


def truth(source: Source, spec: str, level: str) -> dict[str, float]:
    exact = analyze(source, parse_objective(spec, source.length), 2, level=level).level(level)
    first = "phi" if level == "context" else "alpha"
    second = "s_2" if level == "context" else "lambda_2"
    values = getattr(exact, exact.spectrum_name)
    return {first: getattr(exact, first), "bound": exact.bound, second: float(values[1])}


def row(source: Source, spec: str, level: str, seeds: int, n: int) -> str:
    exact = truth(source, spec, level)
    estimates: dict[str, list[float]] = {key: [] for key in exact}
    errors: dict[str, list[float]] = {key: [] for key in exact}
    covered = dict.fromkeys(exact, 0)
    start = time.perf_counter()
    for seed in range(seeds):
        est = monte_carlo(source, spec, 2, n, levels=(level,), seed=seed)[level]
        named = dict(est.values.named(level))
        for key, value in exact.items():
            interval = named[key]
            covered[key] += interval.covers(value)
            estimates[key].append(interval.estimate)
            if interval.low is not None and interval.high is not None:
                errors[key].append((interval.high - interval.low) / (2 * Z))
    cells = []
    for key in exact:
        spread = float(np.std(estimates[key], ddof=1))
        se = float(np.sqrt(np.mean(np.square(errors[key])))) if errors[key] else float("nan")
        cells.append(f"{key} {covered[key]}/{seeds} spread/se {spread / se:.2f}")
    seconds = time.perf_counter() - start
    return f"{source.name:<26} {spec:<7} {level:<8} " + "  ".join(cells) + f"  ({seconds:.0f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--only", nargs="*", default=OBJECTIVES)
    parser.add_argument("--levels", nargs="*", default=("context", "sample"))
    args = parser.parse_args()
    print(f"95% intervals, N = {args.n} draws, {args.seeds} seeds per row")
    for source in sources():
        for spec in args.only:
            for level in args.levels:
                print(row(source, spec, level, args.seeds, args.n), flush=True)


if __name__ == "__main__":
    main()
