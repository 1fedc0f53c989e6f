"""Benchmark ladder: lookaround's exact context analysis against the strongest peer routes.

The peers read the co-occurrence blocks of the row path (``lookaround.theory.cooccurrence.iter_blocks``,
the forward algorithm) or build ``A`` from the chain's arrays by hand; every route must give
the same top singular values of ``Abar`` to 1e-9. Each runs in a fresh subprocess, so that
its peak memory is its own; times are the median of ``--repeat`` runs. Routes that hold all
of ``A`` are left out past 2e8 entries.

- ``enumerate``: the enumeration limit, every context's class joint ``P(z, c)`` generated once
  by the path ``analyze`` takes and nothing more.
- ``analyze``: ``lookaround.theory.analysis.analyze(level="context")``, every number of T2
  (spectrum, ``phi``, the probe error, connectivity, the within-class gap; two passes).
- ``spectrum``: lookaround's first pass alone (``target_side_pass`` over
  ``context_chunks``, the path ``analyze`` takes: Gram, labels, ``P_t``), then the singular
  values.
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
  of ``streamed_gram``, spectrum only.
- ``direct_blanket`` (``ar`` only): the Markov-blanket factorization written by hand in plain
  numpy (prefix joints extended a token at a time, ``W_v`` by one ``einsum`` per length,
  ``G = sum_v M_v^T W_v M_v``): the strongest hand-written route we know, spectrum only. It
  holds every prefix law of the widest length and the next: 2 GB at ``V = 10, T = 8``,
  20 GB at ``T = 9``.
- ``command_line``: ``lookaround analyze --level context --json`` as a command, start-up
  included, on a held-out source of the same size (the next seed); ``start_up`` is
  ``lookaround --version`` alone, and ``held_out_csr_svds`` the CSR + ``svds`` route on the
  held-out source, which the command line is compared against.

Every child makes the allocator setting the command line makes (``lookaround.base.allocator``:
freed blocks are reused instead of faulted in again), whatever its route.

Each rung gives seconds and extra peak MB per route, each peer's time over ``analyze``'s and
over its first pass's (above 1: lookaround, with all its numbers or with the spectrum alone,
is faster), ns per context-target entry for ``analyze``, and ``analyze``'s time over the
enumeration limit.

Usage: ``python benchmarks/ladder.py [--quick] [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from random_sources import random_source
from scipy.sparse.linalg import svds

from lookaround.base.allocator import keep_freed_memory
from lookaround.theory.analysis import analyze
from lookaround.theory.blankets import context_chunks
from lookaround.theory.cooccurrence import DEFAULT_CHUNK, iter_blocks
from lookaround.theory.factored import FactoredChunk
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


def route_enumerate(source: Source, spec: str) -> np.ndarray:
    """The enumeration limit: every context's class joint ``P(z, c)`` generated once (by the
    path ``analyze`` takes), nothing else; returns ``[1.0]``, the total mass, for the check."""
    objective = parse_objective(spec, source.length)
    total = 0.0
    for part in context_chunks(source, objective, chunk=DEFAULT_CHUNK):
        total += float(part.mass.sum() if isinstance(part, FactoredChunk) else part[1].sum())
    return np.array([total])


def _held_out(source: Source) -> Source:
    """A source of the same size the in-process routes never saw (the next seed)."""
    return markov_source(source.vocab, source.length, seed=1)


def route_command_line(source: Source, spec: str) -> np.ndarray:
    """``lookaround analyze --level context --json`` on the held-out source, start-up included
    (the child's time is the wall time of the command)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.json"
        path.write_text(json.dumps(_held_out(source).spec))
        k = str(min(3, source.vocab))
        command = [sys.executable, "-m", "lookaround", "analyze", "--source", str(path),
                   "--objective", spec, "--k", k, "--level", "context", "--json"]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return np.array(json.loads(out)["context"]["singular_values"])


def route_start_up(source: Source, spec: str) -> np.ndarray:
    """``lookaround --version``: what every command pays before it reads its request."""
    command = [sys.executable, "-m", "lookaround", "--version"]
    subprocess.run(command, capture_output=True, text=True, check=True)
    return np.array([])


def route_held_out_csr_svds(source: Source, spec: str) -> np.ndarray:
    """``csr_svds`` on the held-out source, in this process."""
    return route_csr_svds(_held_out(source), spec)


def route_spectrum(source: Source, spec: str) -> np.ndarray:
    objective = parse_objective(spec, source.length)
    side = target_side_pass(context_chunks(source, objective, chunk=DEFAULT_CHUNK))
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


def route_direct_blanket(source: Source, spec: str) -> np.ndarray:
    """The Markov-blanket route written by hand: the prefix joints ``u = P(z, x_{<l})`` extended
    one token at a time, and the Gram through ``W_v = sum_{x_{<l} ending in v} u u^T / P``
    (one ``einsum`` per length) and the chain's step ``M_v``: ``G += M_v^T W_v M_v``."""
    assert spec == "ar", "the direct routes build autoregressive prefixes only"
    r, vocab, length = source.n_classes, source.vocab, source.length
    prefix = source.prior[:, None] * source.init  # P(z, x_0), shape (r, V)
    gram, mass_t = np.zeros((vocab, vocab)), np.zeros(vocab)
    for step in range(length - 1):
        move = source.trans[:, step] / (length - 1)  # (r, V_last, V_next), weight 1/(T-1)
        u = prefix.reshape(r, -1, vocab)  # (r, prefixes without the last, last)
        scale = inverse_sqrt_mass(u.sum(axis=0) / (length - 1))  # P_c^{-1/2}, (n, V)
        scaled = (u * scale[None]).transpose(2, 0, 1)  # (V, r, n)
        small = scaled @ scaled.transpose(0, 2, 1)  # W_v, (V, r, r)
        by_last = move.transpose(1, 0, 2)  # M_v, (V, r, V_next)
        gram += by_last.reshape(-1, vocab).T @ (small @ by_last).reshape(-1, vocab)
        mass_t += np.einsum("zv,zvt->t", u.sum(axis=1), move)
        prefix = (u[:, :, :, None] * source.trans[:, step][:, None]).reshape(r, -1)
    scale = inverse_sqrt_mass(mass_t)
    values = np.linalg.eigvalsh(scale[:, None] * gram * scale[None, :])[::-1]
    return np.sqrt(np.maximum(values[:TOP], 0.0))


def _normalized_svds(a: sp.csr_matrix) -> np.ndarray:
    left = inverse_sqrt_mass(np.asarray(a.sum(axis=1)).ravel())
    right = inverse_sqrt_mass(np.asarray(a.sum(axis=0)).ravel())
    abar = sp.diags(left) @ a @ sp.diags(right)
    count = min(TOP, min(abar.shape) - 1)  # ARPACK needs k < min(shape)
    return np.sort(np.asarray(svds(abar, k=count, return_singular_vectors=False, rng=0)))[::-1]


ROUTES = {
    "enumerate": route_enumerate,
    "analyze": route_analyze,
    "spectrum": route_spectrum,
    "csr_svds": route_csr_svds,
    "dense_gram": route_dense_gram,
    "streamed_gram": route_streamed_gram,
    "direct_svds": route_direct_svds,
    "direct_gram": route_direct_gram,
    "direct_blanket": route_direct_blanket,
    "command_line": route_command_line,
    "start_up": route_start_up,
    "held_out_csr_svds": route_held_out_csr_svds,
}
HELD_OUT = ("command_line", "start_up", "held_out_csr_svds")
PEERS = ("csr_svds", "dense_gram", "streamed_gram", "direct_svds", "direct_gram", "direct_blanket")
DIRECT = ("direct_svds", "direct_gram", "direct_blanket")
# routes that hold all of A (or all prefix laws at the widest length, and their rows) at once:
# past this many entries they would need tens of GB, and are left out of the rung
MATERIALIZING = ("csr_svds", "dense_gram", "direct_svds", "direct_gram", "held_out_csr_svds")
MATERIALIZED_ENTRIES = 200_000_000


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


def entries(vocab: int, length: int, spec: str) -> int:
    objective = parse_objective(spec, length)
    return vocab * objective.context_count(vocab)


LADDER = [
    (3, 8, "ar"),
    (3, 10, "ar"),
    (10, 6, "ar"),
    (10, 7, "ar"),
    (10, 7, "mlm:2"),
    (10, 8, "ar"),
    (2, 13, "vmlm"),
    (10, 9, "ar"),
    (30, 6, "ar"),
]
QUICK = [(3, 8, "ar"), (10, 6, "ar"), (10, 7, "ar")]


def _same(values: list, reference: list) -> bool:
    count = min(len(values), len(reference))
    return bool(np.allclose(values[:count], reference[:count], atol=CHECK_TOL))


def _rung(vocab: int, length: int, spec: str, repeat: int) -> list[str]:
    """One rung: every route that applies, timed, and each peer's time over ``analyze``'s and
    over its first pass's (``spectrum``)."""
    count = entries(vocab, length, spec)
    routes = [
        r
        for r in ROUTES
        if (r not in DIRECT or spec == "ar")
        and (r not in MATERIALIZING or count <= MATERIALIZED_ENTRIES)
    ]
    results = {r: run_route(r, vocab, length, spec, repeat) for r in routes}
    base, first = results["analyze"]["time"], results["spectrum"]["time"]
    check = abs(results["enumerate"]["top"][0] - 1.0) < CHECK_TOL and all(
        _same(r["top"], results["analyze"]["top"])
        for name, r in results.items()
        if name not in ("enumerate", *HELD_OUT)
    )
    if "held_out_csr_svds" in results:
        check &= _same(results["held_out_csr_svds"]["top"], results["command_line"]["top"])
    limit = results["enumerate"]["time"]
    lines = [
        f"V={vocab} T={length} {spec}: {count:,} entries; analyze {1e9 * base / count:.1f} ns "
        f"an entry, {base / limit:.1f}x the enumeration limit; singular values "
        + ("equal" if check else "DIFFER")
    ]
    for name in ROUTES:
        res = results.get(name)
        if res is None:
            why = "ar only" if name in DIRECT and spec != "ar" else "it would hold A whole"
            lines.append(f"  {name:<17} left out ({why})")
            continue
        ratios = f"{res['time'] / base:8.2f}x {res['time'] / first:8.2f}x" if name in PEERS else ""
        lines.append(f"  {name:<17} {res['time']:9.3f}s {res['peak'] / 2**20:8.0f}MB {ratios}")
    if "held_out_csr_svds" in results:
        cli, peer = results["command_line"]["time"], results["held_out_csr_svds"]["time"]
        lines.append(
            f"  command line (start-up {results['start_up']['time']:.2f}s included) against "
            f"CSR + svds on the same held-out source: {peer / cli:.2f}x"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short ladder (about a minute)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per route (median time)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        route, vocab, length, spec = args.child
        _child(route, int(vocab), int(length), spec)
        return
    print("markov sources, r=2, exact context level, k=min(3, V); seconds (median of "
          f"{args.repeat}) and extra peak MB per route, each in a fresh process")  # fmt: skip
    print(
        "x: peer time / analyze time, then / its first pass (spectrum); above 1: lookaround faster"
    )
    for vocab, length, spec in QUICK if args.quick else LADDER:
        print("\n".join(_rung(vocab, length, spec, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
