"""The interface every trained model implements, and the helpers the models share.

A model is trained by a ``fit_*`` function (see ``lookaround.simulations.runs.FITTERS``) and
then read through :class:`Model` alone, so runs and claims never ask which model they hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from lookaround.base.errors import InputError
from lookaround.theory.numerics import softmax
from lookaround.theory.objectives import Pattern

__all__ = ["LOSSES", "MODELS", "Model", "Readout", "adam_step", "check_loss", "predictive"]

LOSSES = ("spectral", "ce")
MODELS = ("tabular", "shared")  # each has its trainer in lookaround.simulations.runs.FITTERS


@dataclass(frozen=True, eq=False)
class Readout:
    """The target side of a model: ``g(t)`` per target (shape (V, k)) and the bias (V,).

    Attributes
    ----------
    g : ndarray, shape (V, k)
        ``g(t)`` per target.
    bias : ndarray, shape (V,)
        The bias per target.
    """

    g: np.ndarray
    bias: np.ndarray


@runtime_checkable
class Model(Protocol):
    """A trained feature model ``f(c)``, ``g(t)`` of one loss (``"spectral"`` or ``"ce"``)."""

    @property
    def loss(self) -> str:
        """``"spectral"`` or ``"ce"``."""
        ...

    @property
    def curve(self) -> np.ndarray:
        """The training loss at each step."""
        ...

    def features(self, pattern: Pattern, tokens: np.ndarray) -> np.ndarray:
        """``f(c)`` for the contexts ``(pattern, x_S)`` of each row of ``tokens``."""
        ...

    def conditional(self, pattern: Pattern, tokens: np.ndarray) -> np.ndarray:
        """The model's ``P(x_i = . | x_S)`` for each row, shape (n, V)."""
        ...

    @property
    def readout(self) -> Readout:
        """``g`` and the bias."""
        ...


def check_loss(loss: str) -> str:
    """The one rule for a loss name.

    Parameters
    ----------
    loss : str
        ``"spectral"`` or ``"ce"``.

    Returns
    -------
    str

    Examples
    --------
    >>> check_loss("ce")
    'ce'
    >>> check_loss("mse")
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: loss must be 'spectral' or 'ce', got 'mse'
    """
    if loss not in LOSSES:
        raise InputError(f"loss must be 'spectral' or 'ce', got {loss!r}")
    return loss


def predictive(
    f: np.ndarray, g: np.ndarray, bias: np.ndarray, *, loss: str, target_mass: np.ndarray
) -> np.ndarray:
    """Predictive law of a feature model.

    Cross-entropy: ``softmax(f.g + b)``. Spectral: ``Abar ~ F G^T`` means
    ``P(t|c) ~ P_t f(c).g(t)``, clipped at ``1e-6 P_t`` and renormalized; a zero feature (a
    context never trained) gives the marginal ``P_t``, the model's fallback ``q0``.

    Parameters
    ----------
    f : ndarray, shape (n, k)
        Context features.
    g : ndarray, shape (V, k)
        Target features.
    bias : ndarray, shape (V,)
        Target biases (cross-entropy).
    loss : str
        ``"spectral"`` (``P(t|c) ~ P_t (1 + f.g)``, clipped and renormalized) or ``"ce"`` (softmax).
    target_mass : ndarray, shape (V,)
        ``P_t``.

    Returns
    -------
    ndarray, shape (n, V)

    Examples
    --------
    >>> f, g, mass = np.zeros((1, 1)), np.ones((2, 1)), np.array([0.25, 0.75])
    >>> predictive(f, g, np.zeros(2), loss="spectral", target_mass=mass)
    array([[0.25, 0.75]])
    """
    scores = f @ g.T
    if loss == "ce":
        return softmax(scores + bias)
    p = target_mass[None, :] * np.maximum(scores, 1e-6)
    p[np.all(f == 0, axis=1)] = target_mass
    return p / p.sum(axis=1, keepdims=True)


def adam_step(params: list, grads: list, moments: list, *, lr: float, step: int) -> None:
    """One Adam update in place (beta 0.9, 0.999, eps 1e-8).

    Parameters
    ----------
    params, grads : list of ndarray
        Parameters, updated in place, and their gradients.
    moments : list of (ndarray, ndarray)
        First and second moments, updated in place.
    lr : float
        The learning rate.
    step : int
        The step number, from 1 (for the bias corrections).

    Examples
    --------
    >>> p, m = [np.zeros(1)], [[np.zeros(1), np.zeros(1)]]
    >>> adam_step(p, [np.ones(1)], m, lr=0.1, step=0)
    >>> p[0].round(6)
    array([-0.1])
    """
    for p, grad, (m, v) in zip(params, grads, moments):
        m *= 0.9
        m += 0.1 * grad
        v *= 0.999
        v += 0.001 * grad**2
        p -= lr * (m / (1 - 0.9 ** (step + 1))) / (np.sqrt(v / (1 - 0.999 ** (step + 1))) + 1e-8)
