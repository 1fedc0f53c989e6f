"""Sources to and from hmmlearn's ``CategoricalHMM`` (the ``hmm`` extra).

A source is a mixture of ``r`` hidden Markov models, one per class (docs/theory.md §2);
hmmlearn holds one time-homogeneous model per object. :func:`to_hmmlearn` gives one model per
class, or with ``combined=True`` a single model on ``r H`` states whose transition matrix is
block diagonal, so that hmmlearn's ``score`` is the source's ``log P(x)`` and its ``predict``
decodes the class with the state. :func:`hmmlearn_spec` reads either back as a source's JSON
spec; ``Source.to_hmmlearn`` and ``Source.from_hmmlearn`` are the same as methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.extras import require
from lookaround.theory.mixtures import Mixture

__all__ = ["hmmlearn_spec", "to_hmmlearn"]


def to_hmmlearn(source: Mixture, *, combined: bool = False) -> tuple[Any, ...]:
    """One ``hmmlearn.hmm.CategoricalHMM`` per class, or one on every (class, state) pair.

    Parameters
    ----------
    source : Source or Mixture
        A source whose transitions and emissions do not change with ``t`` (hmmlearn's models
        are time-homogeneous).
    combined : bool
        One model on ``r H`` states: ``startprob_ = pi (x) mu_z``, ``transmat_`` block diagonal,
        ``emissionprob_`` stacked; the class of state ``s`` is ``s // H``.

    Returns
    -------
    tuple of CategoricalHMM
        ``r`` models (the prior stays with the source), or one.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> models = to_hmmlearn(preset_source("markov"))
    >>> len(models), models[0].transmat_.shape
    (2, (3, 3))
    """
    hmm = require("hmmlearn.hmm", "hmm", "to_hmmlearn")
    trans, emit = _homogeneous(source)
    r, states = source.init.shape
    if not combined:
        return tuple(_model(hmm, source.init[z], trans[z], emit[z]) for z in range(r))
    block = np.zeros((r * states, r * states))
    for z in range(r):
        block[z * states : (z + 1) * states, z * states : (z + 1) * states] = trans[z]
    start = (source.prior[:, None] * source.init).ravel()
    return (_model(hmm, start, block, emit.reshape(r * states, -1)),)


def hmmlearn_spec(
    models: Any | Sequence[Any],
    *,
    length: int,
    prior: Sequence[float] | np.ndarray | None = None,
    name: str = "hmmlearn",
) -> dict:
    """The ``hmm``-family JSON spec of ``CategoricalHMM`` s, one class each, at length ``length``
    (:meth:`Source.from_hmmlearn <lookaround.theory.sources.Source.from_hmmlearn>` builds it).

    Parameters
    ----------
    models : CategoricalHMM or sequence of CategoricalHMM
        Fitted or set models (``startprob_``, ``transmat_``, ``emissionprob_``) over the same
        ``n_features`` tokens; models with fewer states are padded with unreachable ones.
    length : int
        ``T``, the length of the sequences.
    prior : array_like, optional
        The class prior ``pi`` (default: uniform).
    name : str
        The source's name.

    Returns
    -------
    dict
        The spec, validated when a source is built from it.

    Examples
    --------
    >>> from hmmlearn.hmm import CategoricalHMM
    >>> m = CategoricalHMM(n_components=1, n_features=2)
    >>> m.startprob_, m.transmat_, m.emissionprob_ = [1.0], [[1.0]], [[0.3, 0.7]]
    >>> hmmlearn_spec(m, length=3)["emit"]
    [[[0.3, 0.7]]]
    """
    listed = list(models) if isinstance(models, (list, tuple)) else [models]
    if not listed:
        raise InputError("models: give at least one CategoricalHMM")
    parts = [_read(m, f"models[{i}]") for i, m in enumerate(listed)]
    vocab = {emit.shape[1] for _, _, emit in parts}
    if len(vocab) > 1:
        raise InputError(f"models: every model must emit the same tokens, got {sorted(vocab)}")
    states = max(start.size for start, _, _ in parts)
    padded = [_pad(*part, states) for part in parts]
    law = np.full(len(parts), 1 / len(parts)) if prior is None else np.asarray(prior, float)
    init, trans, emit = (np.stack([p[i] for p in padded]).tolist() for i in range(3))
    return {"family": "hmm", "name": name, "prior": law.tolist(), "init": init,
            "trans": trans, "emit": emit, "length": length}  # fmt: skip


def _homogeneous(source: Mixture) -> tuple[np.ndarray, np.ndarray]:
    """Each class's one transition and emission matrix, or the field that changes with ``t``."""
    trans, emit = source.trans, source.emit
    if trans.shape[1] and np.any(trans != trans[:, :1]):
        raise InputError(
            "source.trans changes with t; hmmlearn's CategoricalHMM is time-homogeneous"
        )
    if np.any(emit != emit[:, :1]):
        raise InputError(
            "source.emit changes with t; hmmlearn's CategoricalHMM is time-homogeneous"
        )
    r, states = source.init.shape
    fixed = trans[:, 0] if trans.shape[1] else np.broadcast_to(np.eye(states), (r, states, states))
    return fixed, emit[:, 0]


def _model(hmm: Any, start: np.ndarray, trans: np.ndarray, emit: np.ndarray) -> Any:
    model = hmm.CategoricalHMM(n_components=start.size, n_features=emit.shape[1], init_params="")
    model.startprob_, model.transmat_, model.emissionprob_ = start, trans, emit
    return model


def _read(model: Any, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        return tuple(
            np.asarray(getattr(model, key), dtype=float)
            for key in ("startprob_", "transmat_", "emissionprob_")
        )  # type: ignore[return-value]
    except AttributeError as exc:
        raise InputError(
            f"{what}: not a CategoricalHMM with startprob_, transmat_ and emissionprob_ set ({exc})"
        ) from None


def _pad(
    start: np.ndarray, trans: np.ndarray, emit: np.ndarray, states: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model on ``states`` states: the added ones start with mass 0 and are never entered."""
    extra = states - start.size
    if not extra:
        return start, trans, emit
    vocab = emit.shape[1]
    grown = np.eye(states)
    grown[: start.size, : start.size] = trans
    return (
        np.concatenate([start, np.zeros(extra)]),
        grown,
        np.concatenate([emit, np.full((extra, vocab), 1 / vocab)]),
    )
