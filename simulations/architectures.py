"""One record per network architecture: its config, parameter count and how to build it.

An architecture's config holds its shape only (width, depth, a bottleneck); how it is trained
(steps, batch, learning rate, loss) is :class:`lookaround.simulations.transformer.TrainingConfig`.
Every network an :class:`Architecture` builds has one interface, which training and the
evaluation read (:mod:`lookaround.simulations.networks`): ``read(tokens, positions)`` gives
the head's outputs, the features a probe reads and the mean-pooled features; ``causal``,
``readout`` (the spectral target table ``g``) and ``mask_token``.

This module needs no JAX: the command line reads the names, and the request is sized, before
any network is built. Adding an architecture is one config class, one network class in
:mod:`lookaround.simulations.networks` and one :class:`Architecture` in
:data:`ARCHITECTURES`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from lookaround.base.checks import check_count
from lookaround.base.errors import InputError

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "BottleneckConfig",
    "TransformerConfig",
    "architecture_config",
    "forward_flops",
]


@dataclass(frozen=True, kw_only=True)
class TransformerConfig:
    """The shape of a pre-LN transformer (keyword-only).

    Attributes
    ----------
    width : int
        Model dimension ``d`` (a multiple of ``heads``).
    layers : int
        Transformer blocks.
    heads : int
        Attention heads.

    Examples
    --------
    >>> TransformerConfig().width
    32
    """

    width: int = 32
    layers: int = 2
    heads: int = 2

    def __post_init__(self) -> None:
        for name, low, high in (("width", 1, 1024), ("layers", 1, 16), ("heads", 1, 64)):
            check_count(getattr(self, name), name, low=low, high=high)
        if self.width % self.heads:
            raise InputError(f"width {self.width} is not a multiple of heads {self.heads}")

    @property
    def feature_width(self) -> int:
        """Units of what the head and every probe read: ``d`` here."""
        return self.width

    def trunk_parameters(self, vocab: int, length: int) -> int:
        """Weights of the embeddings, blocks and final LayerNorm, for ``V`` tokens and ``T``."""
        d = self.width
        block = 4 * d + 4 * d * d + (d * 4 * d + 4 * d) + (4 * d * d + d)
        return (vocab + 1) * d + length * d + self.layers * block + 2 * d


@dataclass(frozen=True, kw_only=True)
class BottleneckConfig(TransformerConfig):
    """A transformer whose probed features pass through a ``bottleneck``-dimensional linear
    layer between the trunk and the head, so they have the theory's dimension ``k``.

    Attributes
    ----------
    width, layers, heads : int
        As :class:`TransformerConfig`.
    bottleneck : int
        The feature dimension ``K`` the head and every probe read.

    Examples
    --------
    >>> BottleneckConfig(bottleneck=3).bottleneck
    3
    """

    bottleneck: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count(self.bottleneck, "bottleneck", low=1, high=1024)

    @property
    def feature_width(self) -> int:
        """Units of what the head and every probe read: the bottleneck's ``K``."""
        return self.bottleneck


def forward_flops(*, width: int, layers: int, length: int) -> int:
    """Floating-point operations of one sequence's forward pass through the blocks:
    ``2 T L (12 d^2 + 2 T d)`` (the projections and MLP, then attention), what the training
    and evaluation time models both count.

    Parameters
    ----------
    width, layers, length : int
        ``d``, ``L`` and ``T``.

    Returns
    -------
    int

    Examples
    --------
    >>> forward_flops(width=32, layers=2, length=5)
    252160
    """
    return 2 * length * layers * (12 * width**2 + 2 * length * width)


def _transformer_parameters(config: Any, vocab: int, length: int, out: int, k: int) -> int:
    d = config.width
    return config.trunk_parameters(vocab, length) + d * out + out + vocab * k


def _bottleneck_parameters(config: Any, vocab: int, length: int, out: int, k: int) -> int:
    d, b = config.width, config.bottleneck
    return config.trunk_parameters(vocab, length) + d * b + b + b * out + out + vocab * k


@dataclass(frozen=True)
class Architecture:
    """Everything the library knows of one network architecture.

    Attributes
    ----------
    name : str
        Its name on the command line and in a results file (``settings.architecture``).
    config : type
        Its config dataclass; its fields are the run's settings of the same names.
    parameters : callable
        ``parameters(config, vocab, length, out, k) -> int``: the weights it would have, with
        a head of ``out`` outputs and a spectral table of ``vocab x k``, before building it.
    network : str
        The name of its network class in :mod:`lookaround.simulations.networks`, built as
        ``Network(config, *, vocab, length, out, k, causal, key)`` (named, not imported: the
        networks need JAX, and this record is read before JAX is).
    summary : str
        One line for the help.
    """

    name: str
    config: type
    parameters: Callable[[Any, int, int, int, int], int]
    network: str
    summary: str


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("transformer", TransformerConfig, _transformer_parameters,
                     "Transformer", "pre-LN transformer, head on the last hidden state"),
        Architecture("bottleneck", BottleneckConfig, _bottleneck_parameters,
                     "Bottlenecked", "the transformer with a K-dimensional linear "
                     "feature layer before the head (--bottleneck K implies it)"),
    )
}  # fmt: skip
"""Every architecture, by name; ``transformer`` is the default."""


def architecture_config(settings: Mapping[str, Any]) -> TransformerConfig:
    """The architecture config of a run's settings: ``settings["architecture"]`` with the
    settings that are its config's fields.

    Unnamed, the architecture is the one whose own setting is given (``bottleneck`` gives
    the bottleneck architecture), else ``transformer``.

    Parameters
    ----------
    settings : mapping
        A run's settings (a results file's ``settings``); fields of other configs are ignored.

    Returns
    -------
    TransformerConfig
        Or the subclass of the named architecture.

    Examples
    --------
    >>> architecture_config({"bottleneck": 3, "steps": 10})
    BottleneckConfig(width=32, layers=2, heads=2, bottleneck=3)
    """
    name = settings.get("architecture") or _implied(settings)
    if name not in ARCHITECTURES:
        raise InputError(
            f"architecture must be one of {', '.join(ARCHITECTURES)}, got {name!r}",
            field="architecture",
        )
    kind = ARCHITECTURES[name].config
    known = {f.name for f in fields(kind)}
    for other in ARCHITECTURES.values():  # another architecture's setting would go unread
        for key in sorted({f.name for f in fields(other.config)} - known & settings.keys()):
            raise InputError(
                f"{key} is a setting of the {other.name} architecture, not {name}", field=key
            )
    return kind(**{key: value for key, value in settings.items() if key in known})


def _implied(settings: Mapping[str, Any]) -> str:
    """The one architecture whose own (not inherited) setting is given, else ``transformer``."""
    base = {f.name for f in fields(TransformerConfig)}
    named = [a.name for a in ARCHITECTURES.values()
             if ({f.name for f in fields(a.config)} - base) & settings.keys()]  # fmt: skip
    return named[0] if len(named) == 1 else "transformer"


def architecture_of(config: TransformerConfig) -> Architecture:
    """The record whose config ``config`` is."""
    return next(a for a in ARCHITECTURES.values() if type(config) is a.config)
