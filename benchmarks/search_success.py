"""How often a search of the default budget (1,000 evaluations) returns a certified witness,
per claim, metric and shape, over seeds: the table of issue 19's closing note.

Each search is deterministic in its seed (the budget is counted in evaluations), so this table
is the same on any machine; only the seconds column depends on it. Two searches run at a
time. Usage: ``python benchmarks/search_success.py [--seeds N]``
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from joblib import Parallel, delayed

from lookaround.base.errors import InputError
from lookaround.simulations.search import search_witness
from lookaround.simulations.spaces import shape_space

PAIRS = [("C2", "s_k1"), ("C2", "lambda_k1"), ("C2", "t2_bound"), ("C2", "alpha"),
         ("C4", "s_k1"), ("C4", "phi")]  # fmt: skip
SHAPES = ["2,2,4", "2,3,4"]


def _one(claim: str, metric: str, shape: str, seed: int) -> tuple[str, float]:
    start = time.perf_counter()
    try:
        witness = search_witness(claim, metric, shape_space(shape), k=1, seed=seed)
        outcome = witness.certificate.verdict  # "fails": a certified witness
    except InputError as exc:
        # the cause the message names, without its count: "its classes could no longer ..."
        outcome = "no witness: " + str(exc).rsplit(": ", 1)[-1].split(" (")[0]
    return outcome, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", help="CLAIM:METRIC, one row of PAIRS")
    args = parser.parse_args()
    pairs = [tuple(args.only.split(":"))] if args.only else PAIRS
    jobs = [(c, m, s, seed) for c, m in pairs for s in SHAPES for seed in range(args.seeds)]
    results = Parallel(n_jobs=2)(delayed(_one)(*job) for job in jobs)
    table: dict = defaultdict(list)
    for (claim, metric, shape, _), result in zip(jobs, results):
        table[claim, metric, shape].append(result)
    print(f"search --shape, default budget (1,000 evaluations), k = 1, seeds 0..{args.seeds - 1}")
    print(
        f"{'claim':<5} {'metric':<10} {'shape':<6} {'certified':>9} {'median s':>8}  other outcomes"
    )
    for (claim, metric, shape), rows in table.items():
        certified = sum(outcome == "fails" for outcome, _ in rows)
        seconds = sorted(s for _, s in rows)[len(rows) // 2]
        other = sorted({o for o, _ in rows if o != "fails"})
        print(
            f"{claim:<5} {metric:<10} {shape:<6} {certified:>4} of {len(rows):<2} {seconds:>8.1f}  "
            + "; ".join(other)
        )


if __name__ == "__main__":
    main()
