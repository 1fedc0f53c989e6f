"""The main job on random sources: ``check`` must complete on every valid source.

Runs the claim table (robust exact rows and trained rows) on ``--count`` seeded random
sources (two classes; Markov chains and HMMs with ``V`` 2-5, ``T`` 3-5, sparse Dirichlet rows so
some probabilities are tiny) and prints, per source, its shape, the seconds, the rows of each
status, and any row whose training diverged. A source that ends in an exception is printed
with it; the last line counts the sources that completed.

Usage: ``python benchmarks/check_random.py [--count 50] [--n-train 20000]``
"""

from __future__ import annotations

import argparse
import time
import traceback
from collections import Counter

import numpy as np
from random_sources import random_source

from lookaround.simulations.robust import check
from lookaround.theory.sources import Source


def random_sources(count: int) -> list[Source]:
    rng = np.random.default_rng(2026)
    out = []
    for seed in range(count):
        family = "markov" if seed % 2 else "hmm"
        vocab, length = int(rng.integers(2, 6)), int(rng.integers(3, 6))
        concentration = float(rng.choice([0.2, 0.5, 1.0]))
        states = int(rng.integers(2, 4)) if family == "hmm" else None
        name = f"{family} V={vocab} T={length} H={states} a={concentration} seed={seed}"
        out.append(random_source(family, vocab, length, states, trans=concentration,
                                 emit=concentration, seed=seed, name=name))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--n-train", type=int, default=20_000)
    args = parser.parse_args()
    done = 0
    for source in random_sources(args.count):
        start = time.perf_counter()
        try:
            result = _check(source, args.n_train)
        except Exception:  # the script's point is to show any source that falls over
            print(f"{source.name:<44} FELL OVER\n{traceback.format_exc()}", flush=True)
            continue
        done += 1
        verdicts = Counter(str(r.verdict) for r in result.trained)
        print(f"{source.name:<44} {time.perf_counter() - start:6.1f} s  robust {len(result.robust)}"
              f"  trained {dict(verdicts)}", flush=True)  # fmt: skip
    print(f"{done} of {args.count} sources completed")


def _check(source: Source, n_train: int):
    import json
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.json"
        path.write_text(json.dumps(source.spec))
        return check((str(path),), n_train=n_train, n_eval=1000)


if __name__ == "__main__":
    main()
