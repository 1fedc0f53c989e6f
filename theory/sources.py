"""Class-conditional sequence sources (docs/theory.md §2) and their exact marginals.

Every family is stored in one normal form, a mixture of time-inhomogeneous hidden Markov
models: prior ``pi`` over classes ``z``, initial law ``mu_z``, transitions ``A_{z,t}`` and
emissions ``B_{z,t}``. Marginals over any visible set come from the forward algorithm with
the masked positions summed out (an emission row sums to 1, so a masked position costs only
its transition).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from lookaround.theory.errors import InputError
from lookaround.theory.files import read_json
from lookaround.theory.numerics import TIE_TOL
from lookaround.theory.objectives import MAX_LENGTH
from lookaround.theory.reprs import short_repr
from lookaround.theory.seeds import streams

__all__ = [
    "draw_sequences",
    "SOURCE_FAMILIES",
    "KEYS",
    "MAX_GRAPH_NODES",
    "MAX_NORMAL_FORM",
    "Source",
    "TOLERANCE",
    "bayes_labels",
    "joint_visible",
    "load_source",
    "sample_sequences",
    "save_source",
    "sequence_joint",
    "source_from_dict",
    "source_to_hmm_dict",
]

TOLERANCE = 1e-9
SOURCE_FAMILIES = ("iid", "positional", "markov", "graph_walk", "hmm")
KEYS = {
    "iid": {"family", "name", "prior", "emit", "length"},
    "positional": {"family", "name", "prior", "emit", "length"},
    "markov": {"family", "name", "prior", "init", "trans", "length"},
    "hmm": {"family", "name", "prior", "init", "trans", "emit", "length"},
    "graph_walk": {"family", "name", "sizes", "p", "length", "seed", "prior"},
}
MAX_NORMAL_FORM = 50_000_000  # floats of r (T H (H + V)): 400 MB
MAX_GRAPH_NODES = 2000  # networkx builds the SBM pair by pair: seconds at this size


@dataclass(frozen=True, eq=False)
class Source:
    """A mixture of hidden Markov models over sequences ``x_0..x_{T-1}`` in ``[V]``.

    Attributes
    ----------
    prior : ndarray, shape (r,)
        ``pi``, the class prior.
    init : ndarray, shape (r, H)
        ``mu_z``, the law of the first hidden state.
    trans : ndarray, shape (r, T-1, H, H)
        ``A_{z,t}[h, h']``, the law of the hidden state at ``t+1`` given ``h`` at ``t``.
    emit : ndarray, shape (r, T, H, V)
        ``B_{z,t}[h, v]``, the law of token ``x_t`` given hidden state ``h``.
    name : str
        A label for reports.
    spec : dict
        The JSON form the source was built from (what :func:`save_source` writes).
    """

    __repr__ = short_repr

    prior: np.ndarray
    init: np.ndarray
    trans: np.ndarray
    emit: np.ndarray
    name: str = "custom"
    spec: dict = field(default_factory=dict, repr=False)

    @property
    def n_classes(self) -> int:
        """``r``, the number of latent classes."""
        return self.prior.shape[0]

    @property
    def n_states(self) -> int:
        """``H``, the number of hidden states."""
        return self.init.shape[1]

    @property
    def vocab(self) -> int:
        """``V``, the number of tokens."""
        return self.emit.shape[3]

    @property
    def length(self) -> int:
        """``T``, the sequence length."""
        return self.emit.shape[1]

    @cached_property
    def emits_state(self) -> bool:
        """Whether every emission is the identity (markov, graph walk): the token is the state."""
        return self.n_states == self.vocab and bool(np.all(self.emit == np.eye(self.vocab)))

    @property
    def family(self) -> str:
        """The family named in :attr:`spec` (``"hmm"`` when built from arrays)."""
        return self.spec.get("family", "hmm")


# --------------------------------------------------------------------------- validation


def _shape_of(value: Any, path: str, depth: int = 0) -> tuple[int, ...]:
    if depth > 4:  # no field of a source has more than 4 dimensions
        raise InputError(f"{path} is nested deeper than 4 levels")
    if isinstance(value, bool) or not isinstance(value, (list, int, float)):
        raise InputError(
            f"{path} must be a number or a list of numbers, got {type(value).__name__}"
        )
    if not isinstance(value, list):
        return ()
    if not value:
        raise InputError(f"{path} is an empty list")
    shapes = [_shape_of(item, f"{path}[{j}]", depth + 1) for j, item in enumerate(value)]
    for j, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise InputError(
                f"{path}[{j}] has shape {list(shape)}, expected {list(shapes[0])} like {path}[0]"
            )
    return (len(value),) + shapes[0]


def _array(spec: dict, key: str, ndims: Sequence[int], prefix: str = "source") -> np.ndarray:
    path = f"{prefix}.{key}"
    if key not in spec:
        raise InputError(f"{path} is missing")
    shape = _shape_of(spec[key], path)
    if len(shape) not in ndims:
        wanted = " or ".join(f"{d}-dimensional" for d in ndims)
        raise InputError(f"{path} is {len(shape)}-dimensional, expected {wanted}")
    arr = np.asarray(spec[key], dtype=float)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{path} has a non-finite entry")
    return arr


def _check_stochastic(arr: np.ndarray, path: str) -> None:
    negative = np.argwhere(arr < 0)
    if negative.size:
        idx = tuple(int(i) for i in negative[0])
        where = "".join(f"[{i}]" for i in idx)
        raise InputError(f"{path}{where} is {arr[idx]:g}, probabilities must be >= 0")
    sums = arr.sum(axis=-1)
    bad = np.abs(sums - 1.0) > TOLERANCE
    # np.any, not argwhere(...).size: a vector's sum is 0-dimensional and argwhere of a
    # 0-d array has size 0 even when it is True.
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = "".join(f"[{i}]" for i in idx)
        raise InputError(f"{path}{where} sums to {sums[idx]:.12g}, not 1 (tolerance {TOLERANCE:g})")


def _expect(arr: np.ndarray, axis: int, size: int, path: str, what: str) -> None:
    if arr.shape[axis] != size:
        shown = axis % arr.ndim
        raise InputError(f"{path} has {arr.shape[axis]} entries on axis {shown}, expected {what}")


def _length(spec: dict) -> int:
    if "length" not in spec:
        raise InputError("source.length is missing")
    value = spec["length"]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LENGTH:
        raise InputError(f"source.length must be an integer in [1, {MAX_LENGTH}], got {value!r}")
    return value


def _check_keys(spec: dict, family: str) -> None:
    """Every key is one the family reads: a misspelt key is an error, never a default."""
    for key in sorted(set(spec) - KEYS[family], key=str):
        close = difflib.get_close_matches(str(key), sorted(KEYS[family]), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(
            f"source.{key} is not a field of the {family} family{hint}; "
            f"fields: {', '.join(sorted(KEYS[family]))}"
        )


def _check_size(r: int, length: int, states: int, vocab: int) -> None:
    """Refuse, before building it, a normal form past ``MAX_NORMAL_FORM`` floats."""
    floats = r * length * states * (states + vocab)
    if floats > MAX_NORMAL_FORM:
        raise InputError(
            f"source: r={r}, T={length}, H={states}, V={vocab} give a normal form of "
            f"{floats:.3g} floats ({8 * floats / 2**30:.1f} GB), over the limit of "
            f"{MAX_NORMAL_FORM:.0e}; shorten source.length or use fewer states or tokens"
        )


def _time_expand(arr: np.ndarray, per_time_ndim: int, steps: int) -> np.ndarray:
    """Broadcast a time-homogeneous array to one copy per step (a per-step array is kept)."""
    if arr.ndim == per_time_ndim + 1:
        return np.repeat(arr[:, None], steps, axis=1)
    return arr


def _emission_form(spec: dict, family: str, r: int) -> tuple[np.ndarray, ...]:
    """``init, trans, emit`` of an iid or positional source: one state, emissions per class."""
    emit = _array(spec, "emit", (2,) if family == "iid" else (3,))
    _expect(emit, 0, r, "source.emit", f"r={r} classes (the length of source.prior)")
    _check_stochastic(emit, "source.emit")
    if family == "iid":
        length = _length(spec)
        _check_size(r, length, 1, emit.shape[-1])
        emit = np.repeat(emit[:, None, None, :], length, axis=1)
    else:
        length = emit.shape[1]
        if "length" in spec and _length(spec) != length:
            raise InputError(
                f"source.length is {spec['length']}, but source.emit has {length} positions"
            )
        emit = emit[:, :, None, :]
    return np.ones((r, 1)), np.ones((r, max(length - 1, 0), 1, 1)), emit


def _chain_form(spec: dict, family: str, r: int) -> tuple[np.ndarray, ...]:
    """``init, trans, emit`` of a markov or hmm source: validated as given, then broadcast
    over time."""
    length = _length(spec)
    init = _array(spec, "init", (2,))
    _expect(init, 0, r, "source.init", f"r={r} classes (the length of source.prior)")
    _check_stochastic(init, "source.init")
    states = init.shape[1]
    what = "V" if family == "markov" else "H"
    trans = _array(spec, "trans", (3, 4))
    _expect(trans, 0, r, "source.trans", f"r={r} classes")
    if trans.ndim == 4:
        _expect(trans, 1, length - 1, "source.trans", f"{length - 1} time steps")
    for axis, side in ((-2, "rows"), (-1, "columns")):
        _expect(
            trans,
            axis,
            states,
            "source.trans",
            f"{what}={states} {side} (the width of source.init)",
        )
    _check_stochastic(trans, "source.trans")
    vocab = states if family == "markov" else _array(spec, "emit", (3, 4)).shape[-1]
    _check_size(r, length, states, vocab)
    trans = _time_expand(trans, 2, length - 1)
    if family == "markov":  # the token is the state
        return init, trans, np.broadcast_to(np.eye(states), (r, length, states, states)).copy()
    emit = _array(spec, "emit", (3, 4))
    _expect(emit, 0, r, "source.emit", f"r={r} classes")
    if emit.ndim == 4:
        _expect(emit, 1, length, "source.emit", f"{length} positions")
    _expect(emit, -2, states, "source.emit", f"H={states} rows (the width of source.init)")
    _check_stochastic(emit, "source.emit")
    return init, trans, _time_expand(emit, 2, length)


_NORMAL_FORMS = {
    "iid": _emission_form,
    "positional": _emission_form,
    "markov": _chain_form,
    "hmm": _chain_form,
}


def source_from_dict(spec: dict, name: str | None = None) -> Source:
    """Validate a source in the JSON format of docs/json.md and build its normal form.

    Parameters
    ----------
    spec : dict
        ``{"family": "iid"|"positional"|"markov"|"graph_walk"|"hmm", ...}`` as in the README.
    name : str, optional
        Label for reports; defaults to ``spec["name"]`` or the family.

    Returns
    -------
    Source

    Raises
    ------
    InputError
        One line naming the first bad field.

    Examples
    --------
    >>> src = source_from_dict({"family": "iid", "prior": [0.5, 0.5],
    ...                         "emit": [[0.9, 0.1], [0.2, 0.8]], "length": 3})
    >>> (src.n_classes, src.n_states, src.vocab, src.length)
    (2, 1, 2, 3)
    """
    if not isinstance(spec, dict):
        raise InputError(f"source must be a JSON object, got {type(spec).__name__}")
    family = spec.get("family")
    if family not in SOURCE_FAMILIES:
        raise InputError(
            f"source.family: unknown family {family!r} (known: {', '.join(SOURCE_FAMILIES)})"
        )
    _check_keys(spec, family)
    if family == "graph_walk":
        return _graph_walk(spec, name)
    prior = _array(spec, "prior", (1,))
    _check_stochastic(prior, "source.prior")
    init, trans, emit = _NORMAL_FORMS[family](spec, family, prior.shape[0])
    label = name or spec.get("name") or family
    return Source(prior, init, trans, emit, name=str(label), spec=dict(spec))


def _graph_walk(spec: dict, name: str | None) -> Source:
    import networkx as nx  # 0.27 s to import (measured); only graph_walk sources need it

    sizes = _array(spec, "sizes", (1,))
    if np.any(sizes < 1) or np.any(sizes != np.round(sizes)):
        raise InputError("source.sizes must be positive integers")
    sizes = [int(s) for s in sizes]
    if sum(sizes) > MAX_GRAPH_NODES:
        raise InputError(
            f"source.sizes sum to {sum(sizes)} nodes, over the limit of {MAX_GRAPH_NODES} "
            "(each node is a token: the exact analysis needs V^T sequences anyway)"
        )
    blocks = len(sizes)
    p = _array(spec, "p", (2,))
    if p.shape != (blocks, blocks):
        raise InputError(f"source.p has shape {list(p.shape)}, expected [{blocks}, {blocks}]")
    if np.any(p < 0) or np.any(p > 1) or not np.allclose(p, p.T):
        raise InputError("source.p must be a symmetric matrix of probabilities in [0, 1]")
    if not np.any(p > 0):
        raise InputError("source.p is 0 everywhere: no edge, so every walk would stay put")
    length = _length(spec)
    _check_size(blocks, length, sum(sizes), sum(sizes))
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise InputError(f"source.seed must be an integer in [0, 2^63), got {seed!r}")
    if "prior" in spec:
        prior = _array(spec, "prior", (1,))
        _check_stochastic(prior, "source.prior")
        _expect(prior, 0, blocks, "source.prior", f"{blocks} classes (one per block)")
    else:
        prior = np.full(blocks, 1.0 / blocks)
    graph = nx.stochastic_block_model(sizes, p.tolist(), seed=seed)
    vocab = graph.number_of_nodes()
    adjacency = nx.to_numpy_array(graph, nodelist=range(vocab))
    # An isolated node would have no walk to take; it stays put, so every row is a law.
    adjacency[adjacency.sum(axis=1) == 0] += np.eye(vocab)[adjacency.sum(axis=1) == 0]
    step = adjacency / adjacency.sum(axis=1, keepdims=True)
    starts = np.repeat(np.arange(blocks), sizes)
    init = np.stack([(starts == z) / sizes[z] for z in range(blocks)])
    trans = np.broadcast_to(step, (blocks, max(length - 1, 0), vocab, vocab)).copy()
    emit = np.broadcast_to(np.eye(vocab), (blocks, length, vocab, vocab)).copy()
    label = name or spec.get("name") or "graph_walk"
    return Source(prior, init, trans, emit, name=str(label), spec=dict(spec))


def load_source(path: str | Path) -> Source:
    """Read a source from a JSON file (see :func:`source_from_dict`).

    Raises
    ------
    InputError
        If the file is missing, is not JSON, or holds a malformed source.
    """
    path = Path(path)
    spec = read_json(path, "source file")
    return source_from_dict(
        spec, name=path.stem if isinstance(spec, dict) and "name" not in spec else None
    )


def save_source(source: Source, path: str | Path) -> None:
    """Write a source as JSON; :func:`load_source` reads back the same numbers.

    Sources built from arrays are saved in the ``hmm`` family with per-step arrays.
    """
    spec = source.spec or source_to_hmm_dict(source)
    Path(path).write_text(json.dumps(spec, indent=1))


def source_to_hmm_dict(source: Source) -> dict:
    """The general ``hmm`` JSON form of any source (per-step transitions and emissions).

    Examples
    --------
    >>> src = source_from_dict({"family": "iid", "prior": [1.0], "emit": [[0.5, 0.5]], "length": 2})
    >>> source_to_hmm_dict(src)["family"]
    'hmm'
    """
    return {
        "family": "hmm",
        "name": source.name,
        "prior": source.prior.tolist(),
        "init": source.init.tolist(),
        "trans": source.trans.tolist(),
        "emit": source.emit.tolist(),
        "length": source.length,
    }


# --------------------------------------------------------------------------- marginals


def joint_visible(
    source: Source, visible: Sequence[int], fixed: dict[int, int] | None = None
) -> np.ndarray:
    """``P(z, x_S)``: the exact class-joint law of the tokens at the visible positions.

    Parameters
    ----------
    source : Source
    visible : sequence of int
        The visible set ``S``, strictly increasing positions in ``0..T-1``.
    fixed : dict, optional
        ``{position: token}`` for visible positions held at one token: the result is
        ``P(z, x_S)`` on that slice only, which bounds memory when a block is built in chunks.

    Returns
    -------
    ndarray, shape (r,) + (V,) * (len(visible) - len(fixed))
        One axis per visible position not fixed, in position order; masked positions are
        summed out.

    Examples
    --------
    >>> src = source_from_dict({"family": "iid", "prior": [0.5, 0.5],
    ...                         "emit": [[0.9, 0.1], [0.2, 0.8]], "length": 3})
    >>> joint_visible(src, [2]).round(3).tolist()
    [[0.45, 0.05], [0.1, 0.4]]
    """
    visible = [int(t) for t in visible]
    if any(b <= a for a, b in zip(visible, visible[1:])) or (
        visible and (visible[0] < 0 or visible[-1] >= source.length)
    ):
        raise InputError(
            f"visible set {visible} must be increasing positions in 0..{source.length - 1}"
        )
    fixed = dict(fixed or {})
    if not set(fixed) <= set(visible):
        raise InputError(f"fixed positions {sorted(fixed)} must be visible positions {visible}")
    if source.emits_state and visible:
        return _state_chain_joint(source, visible, fixed)
    return _hidden_joint(source, visible, fixed)


def _hidden_joint(source: Source, visible: list[int], fixed: dict[int, int]) -> np.ndarray:
    """General forward pass: ``alpha[z, n, h] = P(z, visible tokens so far = n, state = h)``."""
    r, states, vocab = source.n_classes, source.n_states, source.vocab
    alpha = (source.prior[:, None] * source.init)[:, None, :]
    last = visible[-1] if visible else -1
    seen = set(visible)
    for t in range(last + 1):
        if t in fixed:
            alpha = alpha * source.emit[:, t, :, fixed[t]][:, None, :]
        elif t in seen:
            emission = np.swapaxes(source.emit[:, t], 1, 2)  # (r, V, H)
            alpha = (alpha[:, :, None, :] * emission[:, None, :, :]).reshape(r, -1, states)
        if t < last:
            alpha = alpha @ source.trans[:, t]
    return alpha.sum(axis=2).reshape((r,) + (vocab,) * (len(visible) - len(fixed)))


def _state_chain_joint(source: Source, visible: list[int], fixed: dict[int, int]) -> np.ndarray:
    """Forward pass when the token is the hidden state (identity emissions).

    ``P(z, x_S) = (pi_z mu_z A_{z,0..s_0})[x_{s_0}] prod_j A_z^{(s_j -> s_{j+1})}[x_{s_j}, x_{s_{j+1}}]``
    with multi-step transitions between consecutive visible positions: no hidden axis is
    carried, which saves a factor ``V`` in work and memory over the general pass.
    """
    r, vocab = source.n_classes, source.vocab
    law = (source.prior[:, None] * source.init)[:, None, :]  # (r, 1, V): P(z, x_0)
    for t in range(visible[0]):
        law = law @ source.trans[:, t]
    # alpha[z, n, v] = P(z, earlier free visible tokens = n, token at the current position = v)
    alpha = law
    for previous, position in zip(visible, visible[1:]):
        step = source.trans[:, previous]
        for t in range(previous + 1, position):
            step = step @ source.trans[:, t]
        if previous in fixed:
            token = fixed[previous]
            alpha = alpha[:, :, token, None] * step[:, None, token, :]
        else:
            count = alpha.shape[1]
            alpha = (alpha[:, :, :, None] * step[:, None, :, :]).reshape(r, count * vocab, vocab)
    last = visible[-1]
    out = alpha[:, :, fixed[last]] if last in fixed else alpha.reshape(r, -1)
    return out.reshape((r,) + (vocab,) * (len(visible) - len(fixed)))


def sequence_joint(source: Source) -> np.ndarray:
    """``P(z, x)`` for every full sequence, shape ``(r,) + (V,) * T``.

    Examples
    --------
    >>> src = source_from_dict({"family": "iid", "prior": [1.0], "emit": [[0.5, 0.5]], "length": 2})
    >>> sequence_joint(src).tolist()
    [[[0.25, 0.25], [0.25, 0.25]]]
    """
    return joint_visible(source, range(source.length))


def bayes_labels(class_joint: np.ndarray, axis: int = -1) -> np.ndarray:
    """``y = argmax_z P(z, .)`` with ties (to relative 1e-10) going to the smaller index.

    Floating sums that differ in the last bits must not break a true tie two ways, so a
    class counts as maximal when within ``TIE_TOL = 1e-10`` (relative) of the maximum. The
    joints come from forward recursions over nonnegative numbers, whose relative rounding
    error grows like ``T (H + 2) u`` (``1e-12`` at ``T = 1000`` with ``H = 10`` states): well
    inside the tolerance, so these decisions are the joints', not rounding's.

    Examples
    --------
    >>> bayes_labels(np.array([[0.3, 0.3 + 1e-17], [0.1, 0.2]])).tolist()
    [0, 1]
    """
    arr = np.moveaxis(np.asarray(class_joint, dtype=float), axis, -1)
    if arr.shape[-1] == 2:  # the common case, without an (n, r) comparison table
        # class 1 wins when it is the larger by more than the tolerance: when it is not the
        # larger, first < second - tol |second| fails anyway
        first, second = arr[..., 0], arr[..., 1]
        return (first < second - TIE_TOL * np.abs(second)).astype(np.int64)
    top = arr.max(axis=-1, keepdims=True)
    return np.argmax(arr >= top - TIE_TOL * np.abs(top), axis=-1)


def sample_sequences(source: Source, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` sequences and their latent classes, seeded.

    Returns
    -------
    classes : ndarray, shape (n,)
    tokens : ndarray, shape (n, T)

    Examples
    --------
    >>> src = source_from_dict({"family": "iid", "prior": [0.5, 0.5],
    ...                         "emit": [[1.0, 0.0], [0.0, 1.0]], "length": 3})
    >>> z, x = sample_sequences(src, 4, seed=0)
    >>> bool(np.all(x == z[:, None]))
    True
    """
    if n < 1:
        raise InputError(f"sample count must be >= 1, got {n}")
    return draw_sequences(source, n, np.random.default_rng(streams(seed).draws))


def _cumulative(probs: np.ndarray) -> np.ndarray:
    cum = np.cumsum(probs, axis=-1)
    cum[..., -1] = 1.0  # rounding never leaves a uniform draw above the last category
    return cum


def _categorical(rng: np.random.Generator, cum: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per entry of ``rows`` from the law whose cumulative sums are ``cum[row]``.

    A uniform ``u`` picks the first category with ``cum > u``; rows are grouped so that each
    distinct law is searched once, never broadcast to an (n, V) table.
    """
    u = rng.random(rows.size)
    out = np.empty(rows.size, dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    bounds = np.flatnonzero(np.diff(rows[order])) + 1
    for group in np.split(order, bounds):
        if group.size:
            out[group] = np.searchsorted(cum[rows[group[0]]], u[group], side="right")
    return out


def draw_sequences(
    source: Source, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sample_sequences` with a generator of the caller's (e.g. one chunk of a run)."""
    r, states = source.init.shape
    classes = _categorical(rng, _cumulative(source.prior)[None, :], np.zeros(n, dtype=np.int64))
    hidden = _categorical(rng, _cumulative(source.init), classes)
    emit, trans = _cumulative(source.emit), _cumulative(source.trans)
    tokens = np.empty((n, source.length), dtype=np.int64)
    for t in range(source.length):
        tokens[:, t] = _categorical(
            rng, emit[:, t].reshape(r * states, -1), classes * states + hidden
        )
        if t < source.length - 1:
            hidden = _categorical(
                rng, trans[:, t].reshape(r * states, -1), classes * states + hidden
            )
    return classes, tokens
