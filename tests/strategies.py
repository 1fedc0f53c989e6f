"""Hypothesis strategies: random small sources of every family and random objectives."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from lookaround.theory.sources import Source, source_from_dict

OBJECTIVES = (
    "ar",
    "ar:last",
    "dar:2",
    "dar:3",
    "mlm:1",
    "mlm:2",
    "mlm:0.5",
    "vmlm",
    "vmlm:1-2",
    "prefixlm",
    "span:1",
    "span:2",
    "plm",
    "aas",
)


def random_rows(rng: np.random.Generator, shape: tuple[int, ...], sparsity: float) -> list:
    """Dirichlet rows with entries zeroed at rate ``sparsity`` (each row keeps one positive)."""
    rows = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    mask = rng.random(rows.shape) < sparsity
    keep = rng.integers(shape[-1], size=shape[:-1])
    np.put_along_axis(mask, keep[..., None], False, axis=-1)
    rows = np.where(mask, 0.0, rows)
    return (rows / rows.sum(axis=-1, keepdims=True)).tolist()


def random_spec(family: str, r: int, V: int, H: int, T: int, seed: int, sparsity: float) -> dict:
    rng = np.random.default_rng(seed)
    prior = random_rows(rng, (r,), 0.0)
    if family == "iid":
        return {
            "family": "iid",
            "prior": prior,
            "emit": random_rows(rng, (r, V), sparsity),
            "length": T,
        }
    if family == "positional":
        return {
            "family": "positional",
            "prior": prior,
            "emit": random_rows(rng, (r, T, V), sparsity),
        }
    if family == "markov":
        return {
            "family": "markov",
            "prior": prior,
            "init": random_rows(rng, (r, V), sparsity),
            "trans": random_rows(rng, (r, T - 1, V, V), sparsity),
            "length": T,
        }
    if family == "graph_walk":
        sizes = [max(1, V // 2), max(1, V - V // 2)]
        return {
            "family": "graph_walk",
            "sizes": sizes,
            "p": [[0.8, 0.3], [0.3, 0.8]],
            "length": T,
            "seed": seed,
        }
    return {
        "family": "hmm",
        "prior": prior,
        "init": random_rows(rng, (r, H), sparsity),
        "trans": random_rows(rng, (r, T - 1, H, H), sparsity),
        "emit": random_rows(rng, (r, T, H, V), sparsity),
        "length": T,
    }


@st.composite
def sources(draw, max_vocab: int = 3, max_length: int = 4) -> Source:
    family = draw(st.sampled_from(["iid", "positional", "markov", "graph_walk", "hmm"]))
    spec = random_spec(
        family,
        r=draw(st.integers(1, 3)),
        V=draw(st.integers(2, max_vocab)),
        H=draw(st.integers(1, 2)),
        T=draw(st.integers(2, max_length)),
        seed=draw(st.integers(0, 2**31 - 1)),
        sparsity=draw(st.sampled_from([0.0, 0.3, 0.6])),
    )
    return source_from_dict(spec)


objectives = st.sampled_from(OBJECTIVES)


def min_length(spec: str) -> int:
    """The shortest ``T`` where ``spec`` is in its domain (``dar:J`` needs ``J <= T - 1``)."""
    kind, _, param = spec.partition(":")
    if kind == "dar":
        return int(param) + 1
    if kind in ("mlm", "span") and param.isdigit():
        return max(2, int(param))
    return 2
