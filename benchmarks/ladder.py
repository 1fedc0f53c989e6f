"""Benchmark ladder: the streaming builder against the naive routes, side by side in one run.

Routes, each run in a fresh subprocess so that its peak memory is its own:

- ``streaming``: ``lookaround.theory.analysis.analyze(level="context")`` (blocks from the forward
  algorithm, target-side QR, two passes);
- ``brute``: enumerate all ``V^T`` sequences and hash every (context, target) pair into a
  dict, then a dense SVD of ``Abar``;
- ``networkx``: build the two-hop context graph ``W = A D_t^{-1} A^T`` as a networkx graph
  and take the dense spectrum of its normalized Laplacian (``1 - s_i^2``).

Each route stops being run past a size it cannot reach in reasonable time. Where several
run, their top squared singular values are checked equal to 1e-9. The output prints time,
extra peak memory (peak RSS minus RSS before the route), the ratio of each naive route to
the streaming one, and the streaming time per context-target entry.

Usage: ``python benchmarks/ladder.py [--quick]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lookaround.theory.objectives import parse_objective  # noqa: E402
from lookaround.theory.sources import Source, sequence_joint, source_from_dict  # noqa: E402

BRUTE_MAX_PAIRS = 6_000_000  # sequences x patterns hashed one by one (~10 s)
NETWORKX_MAX_CONTEXTS = 3300  # dense n_c x n_c graph (~10M edges) and eigendecomposition
CHECK_TOL = 1e-9


def markov_source(vocab: int, length: int, seed: int = 0) -> Source:
    rng = np.random.default_rng(seed)
    return source_from_dict(
        {
            "family": "markov",
            "prior": [0.5, 0.5],
            "init": rng.dirichlet(np.ones(vocab), size=2).tolist(),
            "trans": rng.dirichlet(np.full(vocab, 0.7), size=(2, vocab)).tolist(),
            "length": length,
        }
    )


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def route_streaming(source: Source, spec: str) -> np.ndarray:
    from lookaround.theory.analysis import analyze

    res = analyze(source, parse_objective(spec, source.length), 3, level="context")
    return res.context.spectrum**2


def _brute_cooccurrence(source: Source, spec: str) -> np.ndarray:
    objective = parse_objective(spec, source.length)
    joint = sequence_joint(source).sum(axis=0)
    table: dict = {}
    for index in zip(*np.nonzero(joint)):
        p = joint[index]
        for pattern, weight in zip(objective.patterns, objective.weights):
            key = (pattern, tuple(index[s] for s in pattern.visible))
            row = table.get(key)
            if row is None:
                row = table[key] = np.zeros(source.vocab)
            row[index[pattern.target]] += weight * p
    return np.array(list(table.values()))


def route_brute(source: Source, spec: str) -> np.ndarray:
    a = _brute_cooccurrence(source, spec)
    p_c, p_t = a.sum(1), a.sum(0)
    abar = a / np.sqrt(p_c)[:, None] / np.sqrt(np.where(p_t > 0, p_t, 1))[None, :]
    return np.linalg.svd(abar, compute_uv=False) ** 2


def route_networkx(source: Source, spec: str) -> np.ndarray:
    import networkx as nx

    a = _brute_cooccurrence(source, spec)
    p_t = a.sum(0)
    w = a @ np.diag(1 / np.where(p_t > 0, p_t, 1)) @ a.T
    graph = nx.from_numpy_array(w)
    laplacian = nx.normalized_laplacian_spectrum(graph)
    return np.sort(1 - laplacian)[::-1]


ROUTES = {"streaming": route_streaming, "brute": route_brute, "networkx": route_networkx}


def _child(route: str, vocab: int, length: int, spec: str) -> None:
    import networkx  # noqa: F401  imports are not what is measured

    import lookaround.theory.analysis  # noqa: F401

    source = markov_source(vocab, length)
    before = _rss()
    start = time.perf_counter()
    values = ROUTES[route](source, spec)
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {"time": elapsed, "peak": _rss() - before, "top": np.asarray(values[:4]).tolist()}
        )
    )


def run_route(route: str, vocab: int, length: int, spec: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", route, str(vocab), str(length), spec],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def sizes(vocab: int, length: int, spec: str) -> tuple[int, int, int]:
    objective = parse_objective(spec, length)
    entries = sum(vocab ** (len(p.visible) + 1) for p in objective.patterns)
    contexts = sum(vocab ** len(p.visible) for p in objective.patterns)
    return entries, contexts, vocab**length * len(objective.patterns)


LADDER = [
    (3, 4, "ar"),
    (3, 6, "ar"),
    (3, 7, "ar"),
    (3, 8, "ar"),
    (3, 10, "ar"),
    (3, 12, "ar"),
    (3, 5, "mlm:2"),
    (3, 7, "mlm:2"),
    (3, 9, "mlm:2"),
    (10, 5, "ar"),
    (10, 6, "ar"),
    (10, 7, "ar"),
    (10, 8, "ar"),
]
QUICK = [(3, 4, "ar"), (3, 6, "ar"), (3, 7, "ar"), (3, 5, "mlm:2"), (10, 5, "ar")]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short ladder (about a minute)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        route, vocab, length, spec = args.child
        _child(route, int(vocab), int(length), spec)
        return
    header = (
        f"{'V':>3} {'T':>3} {'objective':<9} {'entries':>11} {'contexts':>10} | "
        f"{'stream s':>9} {'ns/entry':>8} {'MB':>7} | {'brute s':>9} {'x':>7} {'MB':>7} | "
        f"{'networkx s':>10} {'x':>8} {'MB':>7} | check"
    )
    print("markov sources, r=2, exact context level, k=3; x = naive time / streaming time")
    print(header)
    print("-" * len(header))
    for vocab, length, spec in QUICK if args.quick else LADDER:
        entries, contexts, pairs = sizes(vocab, length, spec)
        results = {"streaming": run_route("streaming", vocab, length, spec)}
        if pairs <= BRUTE_MAX_PAIRS:
            results["brute"] = run_route("brute", vocab, length, spec)
        if contexts <= NETWORKX_MAX_CONTEXTS:
            results["networkx"] = run_route("networkx", vocab, length, spec)
        base = results["streaming"]
        cells = [
            f"{vocab:>3} {length:>3} {spec:<9} {entries:>11,} {contexts:>10,} | "
            f"{base['time']:>9.4f} {1e9 * base['time'] / entries:>8.1f} {base['peak'] / 2**20:>7.1f}"
        ]
        for name, width in (("brute", 9), ("networkx", 10)):
            if name in results:
                r = results[name]
                cells.append(
                    f"{r['time']:>{width}.3f} {r['time'] / base['time']:>7.0f}x "
                    f"{r['peak'] / 2**20:>6.1f}"[: width + 17]
                )
            else:
                cells.append(f"{'-':>{width}} {'-':>7} {'-':>7}")
        top = np.array(base["top"])
        check = all(
            np.allclose(np.array(r["top"])[: top.size], top[: len(r["top"])], atol=CHECK_TOL)
            for r in results.values()
        )
        print(
            " | ".join(cells) + f" | {'equal' if check else 'DIFFER'} ({len(results)} routes)",
            flush=True,
        )


if __name__ == "__main__":
    main()
