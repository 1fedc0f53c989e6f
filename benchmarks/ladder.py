"""Benchmark ladder: lookaround's exact context analysis against the strongest peer routes.

Every route but the two direct ones reads the same co-occurrence blocks (``lookaround.theory.cooccurrence.iter_blocks``,
the forward algorithm) and must give the same top singular values of ``Abar`` to 1e-9. Each
runs in a fresh subprocess, so that its peak memory is its own; times are the median of
``--repeat`` runs.

- ``analyze``: ``lookaround.theory.analysis.analyze(level="context")``, every number of T2
  (spectrum, ``phi``, the probe error, connectivity, the within-class gap; two passes).
- ``spectrum``: lookaround's first pass alone (``target_side_pass``: BLAS Gram, labels,
  ``P_t``), then the singular values.
- ``csr_svds``: ``A`` assembled as a ``scipy.sparse`` CSR matrix, normalized, and
  ``scipy.sparse.linalg.svds`` for the top 4 singular values; the route a numerically literate
  user writes first.
- ``dense_gram``: ``Abar`` as one dense array, ``Abar^T Abar`` by BLAS and ``eigvalsh``.
- ``streamed_gram``: the blocks one at a time, ``G += X^T X`` with ``X = D_c^{-1/2} A_block``,
  then ``eigvalsh(D_t^{-1/2} G D_t^{-1/2})``: the peer closest to lookaround's design.
- ``direct_svds`` (``ar`` only): no lookaround block at all. The prefix laws are built
  straight from the chain's arrays (``P(z, x_{<l}) -> P(z, x_{<l+1})`` by one broadcast
  product per length), the rows ``A[(l, x_{<l}), t] = P(x_{<l}, x_l = t) / (T - 1)`` stacked
  into one CSR matrix, normalized, and ``svds`` for the top 4: the route a user writes by
  hand for this case, spectrum only.
- ``direct_gram`` (``ar`` only): the same rows, one length at a time, into the ``V x V`` Gram
  of ``streamed_gram``: the strongest hand-written route we know, spectrum only.

Every child makes the allocator setting the command line makes (``lookaround.base.allocator``:
freed blocks are reused instead of faulted in again), whatever its route.

The table gives seconds and extra peak MB per route, each peer's time over ``analyze``'s
(above 1: ``analyze``, with all its numbers, is faster), ns per context-target entry for
``analyze``, and the fraction of this machine's memory bandwidth (measured here by a large
copy) that ``analyze`` reaches reading ``A`` once per pass.

Usage: ``python benchmarks/ladder.py [--quick] [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator

import numpy as np
import scipy.sparse as sp
from random_sources import random_source
from scipy.sparse.linalg import svds

from lookaround.base.allocator import keep_freed_memory
from lookaround.theory.analysis import analyze
from lookaround.theory.cooccurrence import iter_blocks
from lookaround.theory.numerics import inverse_sqrt_mass
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import Source
from lookaround.theory.spectral import target_side_pass

CHECK_TOL = 1e-9
TOP = 4


def markov_source(vocab: int, length: int, seed: int = 0) -> Source:
    return random_source("markov", vocab, length, seed=seed)


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _blocks(source: Source, spec: str):
    return iter_blocks(source, parse_objective(spec, source.length))


def route_analyze(source: Source, spec: str) -> np.ndarray:
    k = min(3, source.vocab)
    res = analyze(source, parse_objective(spec, source.length), k, level="context")
    return res.level("context").singular_values


def route_spectrum(source: Source, spec: str) -> np.ndarray:
    side = target_side_pass((b.cooccurrence, b.class_joint) for b in _blocks(source, spec))
    return side.singular_values(TOP)


def _rows(source: Source, spec: str) -> Iterator[np.ndarray]:
    return (b.cooccurrence for b in _blocks(source, spec))


def route_csr_svds(source: Source, spec: str) -> np.ndarray:
    return _normalized_svds(
        sp.csr_matrix(sp.vstack([sp.csr_matrix(r) for r in _rows(source, spec)]))
    )


def route_dense_gram(source: Source, spec: str) -> np.ndarray:
    a = np.concatenate(list(_rows(source, spec)))
    left = inverse_sqrt_mass(a.sum(axis=1))
    right = inverse_sqrt_mass(a.sum(axis=0))
    abar = a * left[:, None] * right[None, :]
    values = np.linalg.eigvalsh(abar.T @ abar)[::-1]
    return np.sqrt(np.maximum(values[:TOP], 0.0))


def route_streamed_gram(source: Source, spec: str) -> np.ndarray:
    return _gram_values(_rows(source, spec))


def _gram_values(blocks: Iterable[np.ndarray]) -> np.ndarray:
    """``G += X^T X`` over row blocks, ``X = D_c^{-1/2} A_block``, then the top singular values
    of ``Abar`` from ``D_t^{-1/2} G D_t^{-1/2}``."""
    gram = mass_t = None
    for rows in blocks:
        mass = rows.sum(axis=1)
        rows = rows[mass > 0]
        scaled = rows / np.sqrt(mass[mass > 0])[:, None]
        gram = scaled.T @ scaled if gram is None else gram + scaled.T @ scaled
        mass_t = rows.sum(axis=0) if mass_t is None else mass_t + rows.sum(axis=0)
    assert gram is not None and mass_t is not None, "a source has at least one row"
    scale = inverse_sqrt_mass(mass_t)
    values = np.linalg.eigvalsh(scale[:, None] * gram * scale[None, :])[::-1]
    return np.sqrt(np.maximum(values[:TOP], 0.0))


def _direct_rows(source: Source, spec: str) -> Iterator[np.ndarray]:
    """``A``'s rows of ``ar`` on a markov chain, one prefix length at a time, from its arrays."""
    assert spec == "ar", "the direct routes build autoregressive prefixes only"
    r, vocab, length = source.n_classes, source.vocab, source.length
    prefix = source.prior[:, None] * source.init  # P(z, x_0), shape (r, V)
    for step in range(length - 1):
        move = source.trans[:, step]  # (r, V_last, V_next)
        grouped = prefix.reshape(r, -1, vocab)  # (r, prefixes without the last, last)
        joint = grouped[:, :, :, None] * move[:, None, :, :]  # P(z, x_{<l}, x_l)
        yield joint.sum(axis=0).reshape(-1, vocab) / (length - 1)
        prefix = joint.reshape(r, -1)


def route_direct_svds(source: Source, spec: str) -> np.ndarray:
    return _normalized_svds(sp.csr_matrix(np.concatenate(list(_direct_rows(source, spec)))))


def route_direct_gram(source: Source, spec: str) -> np.ndarray:
    return _gram_values(_direct_rows(source, spec))


def _normalized_svds(a: sp.csr_matrix) -> np.ndarray:
    left = inverse_sqrt_mass(np.asarray(a.sum(axis=1)).ravel())
    right = inverse_sqrt_mass(np.asarray(a.sum(axis=0)).ravel())
    abar = sp.diags(left) @ a @ sp.diags(right)
    count = min(TOP, min(abar.shape) - 1)  # ARPACK needs k < min(shape)
    return np.sort(np.asarray(svds(abar, k=count, return_singular_vectors=False, rng=0)))[::-1]


ROUTES = {
    "analyze": route_analyze,
    "spectrum": route_spectrum,
    "csr_svds": route_csr_svds,
    "dense_gram": route_dense_gram,
    "streamed_gram": route_streamed_gram,
    "direct_svds": route_direct_svds,
    "direct_gram": route_direct_gram,
}
PEERS = ("csr_svds", "dense_gram", "streamed_gram", "direct_svds", "direct_gram")
DIRECT = ("direct_svds", "direct_gram")


def _child(route: str, vocab: int, length: int, spec: str) -> None:
    keep_freed_memory()  # every route, as the command line does (lookaround.base.allocator)
    source = markov_source(vocab, length)
    before = _rss()
    start = time.perf_counter()
    values = ROUTES[route](source, spec)
    elapsed = time.perf_counter() - start
    top = np.asarray(values[:TOP], dtype=float).tolist()
    print(json.dumps({"time": elapsed, "peak": _rss() - before, "top": top}))


def run_route(route: str, vocab: int, length: int, spec: str, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--child", route, str(vocab), str(length), spec],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = dict(runs[0])
    best["time"] = statistics.median(r["time"] for r in runs)
    best["peak"] = max(r["peak"] for r in runs)
    return best


def bandwidth() -> float:
    """Bytes per second of a large copy (read plus write), the machine's practical ceiling."""
    source = np.ones(2**26)  # 512 MB
    target = np.empty_like(source)
    np.copyto(target, source)  # first touch of the pages is not bandwidth
    start = time.perf_counter()
    for _ in range(3):
        np.copyto(target, source)
    return 3 * 2 * source.nbytes / (time.perf_counter() - start)


def entries(vocab: int, length: int, spec: str) -> int:
    objective = parse_objective(spec, length)
    return sum(vocab ** (len(p.visible) + 1) for p in objective.patterns)


LADDER = [
    (3, 8, "ar"),
    (3, 10, "ar"),
    (10, 6, "ar"),
    (10, 7, "ar"),
    (10, 7, "mlm:2"),
    (10, 8, "ar"),
    (2, 13, "vmlm"),
]
QUICK = [(3, 8, "ar"), (10, 6, "ar"), (10, 7, "ar")]


def _row(vocab: int, length: int, spec: str, repeat: int, ceiling: float) -> str:
    """One rung: every route that applies, timed, and the ratios against ``analyze``."""
    count = entries(vocab, length, spec)
    routes = [r for r in ROUTES if r not in DIRECT or spec == "ar"]
    results = {r: run_route(r, vocab, length, spec, repeat) for r in routes}
    base = results["analyze"]["time"]
    cells = []
    for name in ROUTES:
        res = results.get(name)
        ratio = "" if res is None or name not in PEERS else f" {res['time'] / base:5.2f}x"
        cells.append(
            "-" if res is None else f"{res['time']:7.3f}s {res['peak'] / 2**20:6.0f}MB{ratio:>7}"
        )
    top = np.array(results["analyze"]["top"])
    check = all(
        np.allclose(r["top"][: min(top.size, len(r["top"]))], top[: len(r["top"])], atol=CHECK_TOL)
        for r in results.values()
    )
    reached = 2 * 8 * count / base / ceiling  # two passes over A's entries
    return (
        f"{vocab:>3} {length:>3} {spec:<7} {count:>11,} | "
        + " | ".join(f"{c:>22}" for c in cells)
        + f" | {1e9 * base / count:8.1f}  {reached:8.1%}  {'equal' if check else 'DIFFER'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short ladder (about a minute)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per route (median time)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--bandwidth", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bandwidth:
        print(bandwidth())
        return
    if args.child:
        route, vocab, length, spec = args.child
        _child(route, int(vocab), int(length), spec)
        return
    # measured in a child: Linux carries a parent's peak RSS into the children it forks
    probe = [sys.executable, __file__, "--bandwidth"]
    ceiling = float(subprocess.run(probe, capture_output=True, text=True, check=True).stdout)
    print(f"markov sources, r=2, exact context level, k=min(3, V); "
          f"memory bandwidth {ceiling / 2**30:.1f} GiB/s")  # fmt: skip
    print("cells: seconds / extra peak MB; x = peer time / analyze time (above 1: analyze faster)")
    header = (
        f"{'V':>3} {'T':>3} {'objective':<7} {'entries':>11} | "
        + " | ".join(f"{name:>22}" for name in ROUTES)
        + " | ns/entry  bandwidth  check"
    )
    print(header)
    print("-" * len(header))
    for vocab, length, spec in QUICK if args.quick else LADDER:
        print(_row(vocab, length, spec, args.repeat, ceiling), flush=True)


if __name__ == "__main__":
    main()
