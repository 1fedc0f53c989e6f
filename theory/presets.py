"""Named synthetic sources with a seed, each built through the same JSON validation as files.

A preset is written ``NAME`` or ``NAME:SEED``; the seed draws its random parameters.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from lookaround.base.errors import InputError
from lookaround.theory.families import FAMILIES, family_source
from lookaround.theory.sources import Source, load_source, source_from_dict

__all__ = ["PRESETS", "as_source", "preset_source", "resolve_source"]


def _rows(rng: np.random.Generator, shape: tuple[int, ...], concentration: float) -> list:
    return rng.dirichlet(np.full(shape[-1], concentration), size=shape[:-1]).tolist()


def _topic(rng: np.random.Generator) -> dict:
    return {"family": "iid", "prior": [0.5, 0.5], "emit": _rows(rng, (2, 4), 1.0), "length": 4}


def _positional(rng: np.random.Generator) -> dict:
    # Class information only at the last position: a next-token target sees it, a prefix never.
    shared = _rows(rng, (3,), 2.0)
    emit = [[shared] * 4 + [row] for row in ([0.8, 0.1, 0.1], [0.1, 0.1, 0.8])]
    return {"family": "positional", "prior": [0.5, 0.5], "emit": emit}


def _markov(rng: np.random.Generator) -> dict:
    return {
        "family": "markov",
        "prior": [0.5, 0.5],
        "init": _rows(rng, (2, 3), 2.0),
        "trans": _rows(rng, (2, 3, 3), 0.7),
        "length": 5,
    }


def _sbm_walk(rng: np.random.Generator) -> dict:
    return {
        "family": "graph_walk",
        "sizes": [3, 3],
        "p": [[0.9, 0.15], [0.15, 0.9]],
        "length": 4,
        "seed": int(rng.integers(2**31)),
    }


def _hmm(rng: np.random.Generator) -> dict:
    return {
        "family": "hmm",
        "prior": [0.4, 0.6],
        "init": _rows(rng, (2, 2), 2.0),
        "trans": _rows(rng, (2, 2, 2), 1.0),
        "emit": _rows(rng, (2, 2, 3), 1.0),
        "length": 5,
    }


def _ginc(rng: np.random.Generator) -> dict:
    # After GINC (Xie et al., 2022): each class (a "concept") is its own HMM dynamics over one
    # shared emission table, so a class shows only through how hidden states follow each other.
    classes, states, vocab = 4, 10, 50
    emit = _rows(rng, (states, vocab), 0.1)  # a few likely tokens per hidden state
    return {
        "family": "hmm",
        "prior": [1.0 / classes] * classes,
        "init": _rows(rng, (classes, states), 1.0),
        "trans": _rows(rng, (classes, states, states), 0.2),
        "emit": [emit] * classes,
        "length": 32,
    }


def _markov20(rng: np.random.Generator) -> dict:
    return {
        "family": "markov",
        "prior": [1.0 / 3] * 3,
        "init": _rows(rng, (3, 20), 2.0),
        "trans": _rows(rng, (3, 20, 20), 0.3),
        "length": 16,
    }


def _sparse_topic(rng: np.random.Generator) -> dict:
    # Classes that share no token: every graph splits into one component per class.
    return {
        "family": "iid",
        "prior": [0.5, 0.5],
        "emit": [[0.7, 0.3, 0.0, 0.0], [0.0, 0.0, 0.4, 0.6]],
        "length": 4,
    }


def _mess3(rng: np.random.Generator) -> dict:
    del rng  # Mess3 has no random parameters: every seed is Shai et al.'s process
    return FAMILIES["mess3"].spec({})


PRESETS: dict[str, tuple[str, Callable[[np.random.Generator], dict]]] = {
    "topic": ("iid topic model: r=2, V=4, T=4, Dirichlet(1) emissions", _topic),
    "positional": ("class only in the last token: r=2, V=3, T=5", _positional),
    "markov": ("class-specific Markov chains: r=2, V=3, T=5", _markov),
    "sbm-walk": (
        "random walk on a 2-block SBM graph (networkx), class = start block: V=6, T=4",
        _sbm_walk,
    ),
    "hmm": ("mixture of 2-state HMMs: r=2, H=2, V=3, T=5", _hmm),
    "disjoint": (
        "iid classes on disjoint tokens: r=2, V=4, T=4 (a disconnected graph)",
        _sparse_topic,
    ),
    "ginc": (
        "GINC-like mixture of HMMs past enumeration: r=4 classes of H=10 states sharing "
        "one emission table, V=50, T=32 (sampled evaluation)",
        _ginc,
    ),
    "markov20": (
        "class-specific Markov chains past enumeration: r=3, V=20, T=16 (sampled evaluation)",
        _markov20,
    ),
    "mess3": (
        "Mess3 with Shai et al.'s x = 0.05, alpha = 0.85: one class, H=3, V=3, T=10",
        _mess3,
    ),
}


def preset_source(name: str) -> Source:
    """Build a preset source, ``NAME`` or ``NAME:SEED`` (seed 0 by default).

    Parameters
    ----------
    name : str
        ``NAME`` or ``NAME:SEED`` (``lookaround sources`` lists them).

    Returns
    -------
    Source

    Examples
    --------
    >>> src = preset_source("markov:3")
    >>> src.name, src.vocab, src.length
    ('markov:3', 3, 5)
    >>> np.array_equal(preset_source("markov:3").trans, src.trans)
    True
    """
    base, colon, seed_text = name.partition(":")
    if base not in PRESETS:
        raise InputError(
            f"unknown source {name!r} (presets: {', '.join(PRESETS)}; or a .json file)"
        )
    if colon and not (seed_text.isascii() and seed_text.isdigit()):
        raise InputError(
            f"source {name!r}: NAME:SEED takes a seed in digits 0-9, got {seed_text!r}"
        )
    seed = int(seed_text) if seed_text else 0
    spec = PRESETS[base][1](np.random.default_rng(seed))
    return source_from_dict(spec, name=name)


def as_source(value: object, what: str = "source") -> Source:
    """The one place a library function takes a source: a :class:`Source`, or a name that
    :func:`resolve_source` reads (a preset, ``NAME:SEED``, a family call, a JSON file).

    Parameters
    ----------
    value : Source, str or os.PathLike
        What the caller passed.
    what : str
        The parameter's name, for the message.

    Returns
    -------
    Source

    Examples
    --------
    >>> as_source("markov").vocab
    3
    >>> as_source(3)
    Traceback (most recent call last):
    ...
    TypeError: source must be a Source, a source name (str) or a JSON file's path, got int
    """
    if isinstance(value, Source):
        return value
    if isinstance(value, (str, os.PathLike)):
        return resolve_source(os.fspath(value))
    raise TypeError(
        f"{what} must be a Source, a source name (str) or a JSON file's path, "
        f"got {type(value).__name__}"
    )


def resolve_source(text: str) -> Source:
    """What ``--source`` accepts: a preset, a ``FAMILY(param=value,...)`` call or a JSON file.

    Parameters
    ----------
    text : str
        A preset, a family call or a path to a source file.

    Returns
    -------
    Source

    Examples
    --------
    >>> resolve_source("hmm2(noise=0.1)").name
    'hmm2(noise=0.1,stick=0.8,V=3,T=5)'
    """
    if text.endswith(".json"):
        return load_source(text)
    if "(" in text:
        return family_source(text)
    return preset_source(text)
