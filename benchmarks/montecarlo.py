"""Exact-conditional Monte Carlo (``analyze --mc N``) on sources no enumeration reaches.

A two-class HMM with ``V = 1000`` tokens, ``T = 64`` and ``H = 8`` hidden states (seeded
Dirichlet parameters) has ``1000^63`` contexts per prefix length under ``ar`` and about
``10^13`` patterns under ``mlm:0.15``: no exact route and no plug-in estimate applies. For each
objective and ``N``, the script prints the time, ``s_2`` with its 95% interval and half-width,
and ``phi``; the half-width should halve when ``N`` quadruples.

The sample level (``--mc N --level sample``) needs each drawn sequence's exact ``q_x``, one
conditional per pattern: under ``ar`` (63 patterns) it is run on ``N`` sequences, printing
``lambda_2`` and ``alpha``.

Usage: ``python benchmarks/montecarlo.py [--n 20000 80000] [--sample-n 1000 4000]``
"""

from __future__ import annotations

import argparse
import time

from random_sources import random_source

from lookaround.theory.montecarlo import monte_carlo_context, monte_carlo_sample
from lookaround.theory.sources import Source


def large_hmm(vocab: int = 1000, length: int = 64, states: int = 8, seed: int = 0) -> Source:
    name = f"hmm V={vocab} T={length} H={states}"
    return random_source("hmm", vocab, length, states, trans=0.5, emit=0.1, seed=seed, name=name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, nargs="+", default=[20_000, 80_000])
    parser.add_argument("--sample-n", type=int, nargs="+", default=[1_000, 4_000])
    args = parser.parse_args()
    source = large_hmm()
    print(f"{source.name}, k = 2, seed 0")
    print(f"{'objective':<9} {'N':>7} {'seconds':>8}  {'s_2':>8}  {'95% interval':<20} "
          f"{'half-width':>10}  {'phi':>8}")  # fmt: skip
    for objective in ("ar", "mlm:0.15"):
        for n in args.n:
            start = time.perf_counter()
            estimate = monte_carlo_context(source, objective, 2, n, seed=0)
            elapsed = time.perf_counter() - start
            s_2, phi = estimate.values.singular_values[1], estimate.values.phi
            interval = f"[{s_2.low:.5f}, {s_2.high:.5f}]"
            print(
                f"{objective:<9} {n:>7} {elapsed:>8.1f}  {s_2.estimate:>8.5f}  {interval:<20} "
                f"{s_2.width / 2:>10.5f}  {phi.estimate:>8.5f}",
                flush=True,
            )
    print("sample level (N sequences), ar")
    print(f"{'objective':<9} {'N':>7} {'seconds':>8}  {'lambda_2':>8}  {'95% interval':<20} "
          f"{'half-width':>10}  {'alpha':>8}")  # fmt: skip
    for n in args.sample_n:
        start = time.perf_counter()
        estimate = monte_carlo_sample(source, "ar", 2, n, seed=0)
        elapsed = time.perf_counter() - start
        lam, alpha = estimate.values.singular_values[1].squared(), estimate.values.phi
        interval = f"[{lam.low:.5f}, {lam.high:.5f}]"
        print(
            f"{'ar':<9} {n:>7} {elapsed:>8.1f}  {lam.estimate:>8.5f}  {interval:<20} "
            f"{lam.width / 2:>10.5f}  {alpha.estimate:>8.5f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
