"""Parametric source families: named continuous knobs, each value a source (docs/theory.md §2).

A family is a function from a parameter vector to a source spec, built through the same
validation as a source file. ``--source 'markov2(stick=0.8,overlap=0.1)'`` works wherever a
source is accepted; ``lookaround families`` lists the families with their parameters.
Integer parameters (``V``, ``T``, ``position``) must be given as integers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from lookaround.base.errors import InputError
from lookaround.theory.numerics import parse_real
from lookaround.theory.sources import Source, source_from_dict

__all__ = [
    "FAMILIES",
    "Family",
    "Parameter",
    "family_source",
    "mess3_matrices",
    "parse_family_call",
]


@dataclass(frozen=True)
class Parameter:
    """One knob: its range ``[low, high]``, default, and whether it is an integer.

    Attributes
    ----------
    name : str
        Its name in a call.
    low, high : float
        Its range, both ends included.
    default : float
        Its value when the call does not give one.
    integer : bool
        Whether it takes integers only.
    meaning : str
        What it controls, for ``lookaround families``.
    """

    name: str
    low: float
    high: float
    default: float
    integer: bool
    meaning: str

    def check(self, value: float, family: str) -> float:
        """``value`` if it is in range (and whole for an integer knob), else an InputError."""
        if self.integer and float(value) != int(value):
            raise InputError(f"{family}.{self.name} must be an integer, got {value!r}")
        if not self.low <= value <= self.high:
            raise InputError(
                f"{family}.{self.name} must be in [{self.low:g}, {self.high:g}], got {value!r}"
            )
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class Family:
    """A named map from parameters to a source spec.

    Attributes
    ----------
    name : str
        Its name in a call, ``NAME(param=value, ...)``.
    summary : str
        One line for ``lookaround families``.
    parameters : tuple of Parameter
        Its knobs.
    build : callable
        ``build(**values) -> dict``: the source spec at the given values.
    """

    name: str
    summary: str
    parameters: tuple[Parameter, ...]
    build: Callable[..., dict]

    def spec(self, values: Mapping[str, float]) -> dict:
        """The source spec at ``values`` (defaults for the knobs not given), validated."""
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise InputError(
                f"{self.name} has no parameter {unknown[0]!r} (parameters: {', '.join(known)})"
            )
        full = {n: p.check(values.get(n, p.default), self.name) for n, p in known.items()}
        return self.build(**full)

    def describe(self) -> str:
        """One line per parameter: name, range, default and meaning."""
        lines = [f"{self.name}: {self.summary}"]
        for p in self.parameters:
            kind = "integer" if p.integer else "real"
            lines.append(
                f"  {p.name:<9} {kind:<7} [{p.low:g}, {p.high:g}]  default {p.default:g}  "
                f"{p.meaning}"
            )
        return "\n".join(lines)


def _rotation(vocab: int, step: int) -> np.ndarray:
    return np.roll(np.eye(vocab), step, axis=1)


def _markov2(stick: float, overlap: float, V: int, T: int) -> dict:
    # Class 0 steps up the token cycle, class 1 down; `stick` is the chance to stay put and
    # `overlap` mixes each class's chain with the other's (1/2: the classes are the same law).
    # Both start on token 0 with probability 1/2: a uniform start would leave the cycle's
    # rotation symmetry intact, and with it pairs of equal singular values at every setting.
    start = [0.5] + [0.5 / (V - 1)] * (V - 1)
    own = [stick * np.eye(V) + (1 - stick) * _rotation(V, s) for s in (1, -1)]
    trans = [(1 - overlap) * own[z] + overlap * own[1 - z] for z in (0, 1)]
    return {
        "family": "markov",
        "prior": [0.5, 0.5],
        "init": [start, start],
        "trans": [t.tolist() for t in trans],
        "length": T,
    }


def _hmm2(noise: float, stick: float, V: int, T: int) -> dict:
    # Two hidden states emitting tokens 0 and V-1 (clean at noise 0, uniform at noise 1);
    # class 0 lingers in a state with probability `stick`, class 1 with 1 - stick.
    emit = np.full((2, V), noise / V)
    emit[0, 0] += 1 - noise
    emit[1, V - 1] += 1 - noise
    trans = [[[p, 1 - p], [1 - p, p]] for p in (stick, 1 - stick)]
    return {
        "family": "hmm",
        "prior": [0.5, 0.5],
        "init": [[0.5, 0.5]] * 2,
        "trans": trans,
        "emit": [emit.tolist()] * 2,
        "length": T,
    }


def _positional2(position: int, strength: float, V: int, T: int) -> dict:
    # Uniform tokens everywhere but at `position`, where class z favours token z with
    # probability `strength` (1/V: no class information anywhere).
    if position >= T:
        raise InputError(f"positional2.position must be < T = {T}, got {position}")
    emit = np.full((2, T, V), 1.0 / V)
    for z in (0, 1):
        emit[z, position] = (1 - strength) / (V - 1)
        emit[z, position, z] = strength
    return {"family": "positional", "prior": [0.5, 0.5], "emit": emit.tolist()}


def _sbm2(p_in: float, p_out: float, size: int, T: int) -> dict:
    # A walk on the expected adjacency of a two-block SBM (no self-loops), started uniformly
    # in the block of its class: smooth in p_in and p_out, unlike one drawn graph.
    blocks = np.repeat([0, 1], size)
    adjacency = np.where(blocks[:, None] == blocks[None, :], p_in, p_out)
    np.fill_diagonal(adjacency, 0.0)
    degree = adjacency.sum(axis=1, keepdims=True)
    if np.any(degree == 0):
        raise InputError("sbm2 needs p_in > 0 or p_out > 0 (a walk must be able to move)")
    init = [(blocks == z) / size for z in (0, 1)]
    return {
        "family": "markov",
        "prior": [0.5, 0.5],
        "init": [row.tolist() for row in init],
        "trans": [(adjacency / degree).tolist()] * 2,
        "length": T,
    }


def mess3_matrices(x: float, alpha: float) -> np.ndarray:
    """Mess3's labelled transition matrices ``T^(v)[i, j] = P(x_t = v, s_(t+1) = j | s_t = i)``.

    The process of Marzen and Crutchfield (2017) as Shai et al. (2024) write it: from state
    ``i`` the next state is ``i`` with probability ``1 - 2 x``, each other with ``x``; the
    token is the next state's own with weight ``alpha``, each other with ``(1 - alpha) / 2``.

    Parameters
    ----------
    x : float
        The chance of each of the two other next states, in ``[0, 1/2]``.
    alpha : float
        The weight of the token naming the next state, in ``[0, 1]``.

    Returns
    -------
    ndarray, shape (3, 3, 3)
        Indexed ``[v, i, j]``; summed over ``v`` and ``j`` each row ``i`` gives 1.

    Examples
    --------
    >>> t = mess3_matrices(0.05, 0.85)
    >>> round(float(t[0, 0, 0]), 6), round(float(t[0, 1, 0]), 6), t.sum(axis=(0, 2)).tolist()
    (0.765, 0.0425, [1.0, 1.0, 1.0])
    """
    move, token = _mess3_laws(x, alpha)
    return token.T[:, None, :] * move[None, :, :]


def _mess3_laws(x: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Mess3's state chain ``[i, j]`` and its token law given the next state ``[j, v]``."""
    same = np.eye(3, dtype=bool)
    return np.where(same, 1 - 2 * x, x), np.where(same, alpha, (1 - alpha) / 2)


def _mess3(x: float, alpha: float, T: int) -> dict:
    # Mess3 emits on its transitions, but the token depends on the state moved to only, so
    # the hidden state h_t = s_(t+1) makes it an HMM of three states: h_0 is uniform (the
    # chain is doubly stochastic), h_t emits x_t and moves as s does. Shai et al.'s belief
    # after x_<l is over s_l = h_(l-1); the belief here, over h_l at the target, is it times
    # the chain: on the simplex, the same figure shrunk by 1 - 3x about its centre.
    move, token = _mess3_laws(x, alpha)
    return {
        "family": "hmm",
        "prior": [1.0],
        "init": [[1.0 / 3] * 3],
        "trans": [move.tolist()],
        "emit": [token.tolist()],
        "length": T,
    }


def _length(default: int) -> Parameter:
    return Parameter("T", 2, 10, default, True, "sequence length")


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "markov2",
            "two-class Markov chains on a token cycle, moving in opposite directions",
            (
                Parameter("stick", 0, 1, 0.5, False, "chance to stay on the same token"),
                Parameter("overlap", 0, 0.5, 0.1, False, "mixing of the two chains"),
                # at V = 2 stepping up and down the cycle is the same move: one class
                Parameter("V", 3, 6, 3, True, "vocabulary size (the cycle needs 3 tokens)"),
                _length(5),
            ),
            _markov2,
        ),
        Family(
            "hmm2",
            "two-class, two-state HMMs with noisy emissions",
            (
                Parameter("noise", 0, 1, 0.3, False, "emission noise (1: uniform)"),
                Parameter("stick", 0, 1, 0.8, False, "class 0's chance to keep its state"),
                Parameter("V", 2, 6, 3, True, "vocabulary size"),
                _length(5),
            ),
            _hmm2,
        ),
        Family(
            "positional2",
            "class information at one chosen position, uniform tokens elsewhere",
            (
                Parameter("position", 0, 9, 4, True, "where the class shows"),
                Parameter("strength", 0, 1, 0.8, False, "chance of the class's token there"),
                Parameter("V", 2, 6, 3, True, "vocabulary size"),
                _length(5),
            ),
            _positional2,
        ),
        Family(
            "sbm2",
            "walk on the expected graph of a two-block SBM; class = start block",
            (
                Parameter("p_in", 0, 1, 0.9, False, "edge weight inside a block"),
                Parameter("p_out", 0, 1, 0.15, False, "edge weight across blocks"),
                Parameter("size", 1, 4, 3, True, "nodes per block (V = 2 size)"),
                _length(4),
            ),
            _sbm2,
        ),
        Family(
            "mess3",
            "Mess3 (Marzen and Crutchfield 2017): one class, 3 hidden states, V = 3; the "
            "belief-geometry process of Shai et al. (2024)",
            (
                Parameter("x", 0, 0.5, 0.05, False, "chance of each other next state"),
                Parameter("alpha", 0, 1, 0.85, False, "weight of the token naming the next state"),
                _length(10),
            ),
            _mess3,
        ),
    )
}

_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", re.S)


def parse_family_call(text: str) -> tuple[Family, dict[str, float]]:
    """``"markov2(stick=0.8, V=3)"`` into the family and its given parameter values.

    Parameters
    ----------
    text : str
        A call, ``"markov2(stick=0.8)"``.

    Returns
    -------
    family : Family
    values : dict of str to float
        The values the call gives (defaults not filled in).

    Examples
    --------
    >>> family, values = parse_family_call("markov2(stick=0.8, T=4)")
    >>> family.name, values
    ('markov2', {'stick': 0.8, 'T': 4.0})
    """
    match = _CALL.match(text)
    if not match:
        raise InputError(f"source {text!r} is not FAMILY(param=value,...)")
    name, body = match.groups()
    if name not in FAMILIES:
        raise InputError(f"unknown family {name!r} (families: {', '.join(FAMILIES)})")
    values: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in body.split(","))):
        key, sep, raw = (s.strip() for s in item.partition("="))
        if not sep or not key:
            raise InputError(f"{name}: expected param=value, got {item!r}")
        if key in values:
            raise InputError(f"{name}.{key} is given twice")
        values[key] = parse_real(raw, f"{name}.{key}")
    return FAMILIES[name], values


def family_source(text: str) -> Source:
    """The source of a family call, named by the call with every parameter written out.

    Parameters
    ----------
    text : str
        A call, ``"markov2(stick=0.8)"``.

    Returns
    -------
    Source

    Examples
    --------
    >>> src = family_source("markov2(stick=0.8)")
    >>> src.name, src.n_classes, src.vocab, src.length
    ('markov2(stick=0.8,overlap=0.1,V=3,T=5)', 2, 3, 5)
    """
    family, values = parse_family_call(text)
    spec = family.spec(values)
    full = {p.name: values.get(p.name, p.default) for p in family.parameters}
    label = ",".join(f"{k}={v:g}" for k, v in full.items())
    return source_from_dict(spec, name=f"{family.name}({label})")
