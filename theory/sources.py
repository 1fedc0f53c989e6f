"""Class-conditional sequence sources (docs/theory.md §2): the normal form, reading and writing.

Every family is stored in one normal form, a mixture of time-inhomogeneous hidden Markov
models: prior ``pi`` over classes ``z``, initial law ``mu_z``, transitions ``A_{z,t}`` and
emissions ``B_{z,t}``. Its exact laws are in :mod:`lookaround.theory.marginals`, its draws in
:mod:`lookaround.theory.sampling`.
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

from lookaround.base.errors import InputError
from lookaround.base.files import read_json
from lookaround.base.reprs import short_repr
from lookaround.base.seeds import SeedLike, as_seed
from lookaround.theory.hmms import hmmlearn_spec, to_hmmlearn
from lookaround.theory.objectives import MAX_LENGTH
from lookaround.theory.sampling import SequenceSample, sample_sequences

__all__ = [
    "SOURCE_FAMILIES",
    "KEYS",
    "MAX_GRAPH_NODES",
    "MAX_NORMAL_FORM",
    "Source",
    "TOLERANCE",
    "load_source",
    "save_source",
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

    def sample(self, n: int, *, seed: SeedLike = 0) -> SequenceSample:
        """``n`` sequences and their classes drawn from the model, seeded.

        Parameters
        ----------
        n : int
            Sequences, at least 1.
        seed : int or SeedLike
            The draws derive from it (its ``draws`` stream): the same seed, the same bits.

        Returns
        -------
        SequenceSample
            ``tokens`` (n, T) and ``classes`` (n,).

        Examples
        --------
        >>> from lookaround.theory.presets import preset_source
        >>> drawn = preset_source("markov").sample(3, seed=1)
        >>> drawn.tokens.shape, drawn.classes.shape
        ((3, 5), (3,))
        """
        classes, tokens = sample_sequences(self, n, as_seed(seed))
        return SequenceSample(tokens=tokens, classes=classes)

    def to_hmmlearn(self, *, combined: bool = False) -> tuple[Any, ...]:
        """hmmlearn ``CategoricalHMM`` s of this source (:func:`lookaround.theory.hmms.to_hmmlearn`):
        one per class, whose forward passes give each class's ``log P(x | z)``.

        Parameters
        ----------
        combined : bool
            One model on every (class, state) pair instead of one per class.

        Returns
        -------
        tuple of CategoricalHMM
        """
        return to_hmmlearn(self, combined=combined)

    @classmethod
    def from_hmmlearn(
        cls,
        models: Any,
        *,
        length: int,
        prior: Sequence[float] | np.ndarray | None = None,
        name: str = "hmmlearn",
    ) -> Source:
        """A source from hmmlearn ``CategoricalHMM`` s, one class each, validated as a JSON
        source is (:func:`lookaround.theory.hmms.hmmlearn_spec`).

        Parameters
        ----------
        models : CategoricalHMM or sequence of CategoricalHMM
            One model per class.
        length : int
            ``T``.
        prior : array_like, optional
            The class prior (default: uniform).
        name : str
            The source's name.

        Returns
        -------
        Source
        """
        spec = hmmlearn_spec(models, length=length, prior=prior, name=name)
        return source_from_dict(spec)


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

    Parameters
    ----------
    path : str or Path
        A source file (JSON, docs/json.md).

    Returns
    -------
    Source

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

    Parameters
    ----------
    source : Source
        The source.
    path : str or Path
        The file to write (JSON, in the general ``hmm`` form).
    """
    spec = source.spec or source_to_hmm_dict(source)
    Path(path).write_text(json.dumps(spec, indent=1))


def source_to_hmm_dict(source: Source) -> dict:
    """The general ``hmm`` JSON form of any source (per-step transitions and emissions).

    Parameters
    ----------
    source : Source
        Any source.

    Returns
    -------
    dict
        Its spec in the ``hmm`` family; :func:`source_from_dict` reads it back.

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
