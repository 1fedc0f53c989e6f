"""How a network is trained, and what a training request will cost, sized before any work.

The training config (steps, batch, learning rate, loss) is separate from the network's shape
(:mod:`lookaround.simulations.architectures`); both are read from a run's flat settings.
Nothing here needs JAX, so a request is refused in one line before JAX is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from lookaround.base.checks import check_count, check_positive
from lookaround.base.errors import InputError
from lookaround.simulations.architectures import (
    TransformerConfig,
    architecture_of,
    forward_flops,
)

if TYPE_CHECKING:  # the command line's parser reads the configs: it must not load the theory
    from lookaround.theory.pattern_laws import PatternLaw
    from lookaround.theory.sources import Source

__all__ = [
    "MAX_PARAMETERS",
    "MAX_PRETRAIN_SECONDS",
    "SCHEDULES",
    "TrainingConfig",
    "check_budget",
    "check_run",
    "parameter_count",
    "pretrain_seconds",
    "training_config",
]

SCHEDULES = ("cosine", "constant")
MAX_PARAMETERS = 5_000_000  # a "tiny" transformer; past this a run is refused before it starts
# pretrain_seconds' constants, fitted to benchmarks/pretrain_sizing.py on this 2-core machine
# (10 settings of width 16-64, 2-4 layers, batch 64-256, T 4-32: measured/model 0.73-1.28 on
# the fitting run, 0.78-1.25 on the next, benchmarks/pretrain_sizing_2026-12-06.txt),
# refitted when the draws became a bisection and overlapped the steps (4.1e-3 s a step before)
FIXED_SECONDS = 6.5  # compiling the step once per shape
STEP_SECONDS = 7.5e-4  # per step, besides its arithmetic (dispatch, the draws' remainder)
FLOPS_PER_SECOND = 3.6e10
MAX_PRETRAIN_SECONDS = 4 * 3600.0  # a request's modelled training time, all runs in sequence


@dataclass(frozen=True, kw_only=True)
class TrainingConfig:
    """How one network is trained (keyword-only); its shape is its architecture's config.

    Attributes
    ----------
    steps : int
        Optimizer steps.
    batch : int
        Sequences drawn per step (fresh every step).
    lr : float
        Peak learning rate of AdamW (weight decay 0).
    warmup : int
        Linear warm-up steps.
    schedule : {"cosine", "constant"}
        After warm-up: cosine decay to 0, or constant.
    loss : {"ce", "spectral"}
        Cross-entropy, or T1's spectral loss with ``k`` features.
    k : int
        Feature dimension of the spectral head (unused by ``"ce"``).

    Examples
    --------
    >>> TrainingConfig(steps=10).batch
    256
    """

    steps: int = 3000
    batch: int = 256
    lr: float = 3e-3
    warmup: int = 100
    schedule: str = "cosine"
    loss: str = "ce"
    k: int = 2

    def __post_init__(self) -> None:
        for name, low, high in (
            ("steps", 1, 10**6), ("batch", 2, 8192), ("warmup", 0, 10**6), ("k", 1, 1024),
        ):  # fmt: skip
            check_count(getattr(self, name), name, low=low, high=high)
        check_positive(self.lr, "lr")
        if self.schedule not in SCHEDULES:
            raise InputError(
                f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        if self.loss not in ("ce", "spectral"):
            raise InputError(f"loss must be 'ce' or 'spectral', got {self.loss!r}")

    def outputs(self, vocab: int) -> int:
        """The head's outputs: ``V`` logits, or the ``k`` spectral features."""
        return vocab if self.loss == "ce" else self.k


def training_config(settings: Mapping[str, Any]) -> TrainingConfig:
    """The training config of a run's settings (the keys that are its fields).

    Parameters
    ----------
    settings : mapping
        A run's settings; the architecture's fields are ignored here
        (:func:`lookaround.simulations.architectures.architecture_config` reads them).

    Returns
    -------
    TrainingConfig

    Examples
    --------
    >>> training_config({"steps": 10, "width": 16}).steps
    10
    """
    known = {f.name for f in fields(TrainingConfig)}
    return TrainingConfig(**{key: value for key, value in settings.items() if key in known})


def parameter_count(
    architecture: TransformerConfig, training: TrainingConfig, *, vocab: int, length: int
) -> int:
    """Weights of the network for ``V`` tokens and length ``T`` (sized before any work).

    Parameters
    ----------
    architecture : TransformerConfig
        The network's shape (its type names the architecture).
    training : TrainingConfig
        Its training (the head's outputs depend on the loss).
    vocab, length : int
        ``V`` and ``T``.

    Returns
    -------
    int

    Examples
    --------
    >>> parameter_count(TransformerConfig(), TrainingConfig(), vocab=3, length=5)
    25609
    """
    out = training.outputs(vocab)
    return architecture_of(architecture).parameters(architecture, vocab, length, out, training.k)


def pretrain_seconds(architecture: TransformerConfig, config: TrainingConfig, length: int) -> float:
    """Modelled seconds of one training run: a fixed part, then per step ``3 B`` times
    :func:`~lookaround.simulations.architectures.forward_flops` (forward and backward over a
    batch of ``B`` sequences) and a fixed overhead.

    Parameters
    ----------
    architecture : TransformerConfig
    config : TrainingConfig
    length : int
        ``T``.

    Returns
    -------
    float

    Examples
    --------
    >>> round(pretrain_seconds(TransformerConfig(), TrainingConfig(), 5), 1)
    24.9
    """
    flops = 3 * config.batch * forward_flops(width=architecture.width,
                                             layers=architecture.layers, length=length)  # fmt: skip
    return FIXED_SECONDS + config.steps * (STEP_SECONDS + flops / FLOPS_PER_SECOND)


def check_budget(runs: list[tuple[TransformerConfig, TrainingConfig, int]], *,
                 evaluation: float = 0.0) -> float:  # fmt: skip
    """Refuse a request whose ``runs`` (each a config and the source's length ``T``) take
    about :func:`pretrain_seconds` in all, plus ``evaluation`` seconds of sampled evaluations,
    past :data:`MAX_PRETRAIN_SECONDS`.

    Parameters
    ----------
    runs : list of (TransformerConfig, TrainingConfig, int)
        Each run's shape, training and ``T``.
    evaluation : float
        Modelled seconds of the request's sampled evaluations, both sides.

    Returns
    -------
    float
        The modelled seconds in all, on one process.
    """
    seconds = sum(pretrain_seconds(a, c, length) for a, c, length in runs) + evaluation
    if seconds > MAX_PRETRAIN_SECONDS:
        count = len(runs)
        sampled = f", {evaluation / 60:,.0f} minutes of it sampled evaluation" if evaluation else ""
        raise InputError(
            f"pretraining: {count:,} runs of about {seconds / count:,.0f} s each, about "
            f"{seconds / 3600:,.1f} hours in all (on one process{sampled}), past the limit of "
            f"{MAX_PRETRAIN_SECONDS / 3600:g} hours; use fewer seeds, sources, objectives, steps "
            "or held-out sequences"
        )
    return seconds


def check_run(
    architecture: TransformerConfig, config: TrainingConfig, *, source: Source, objective: str
) -> PatternLaw:
    """Every setting of a run checked (and its size bounded) before any work starts.

    Parameters
    ----------
    architecture : TransformerConfig
        The network's shape.
    config : TrainingConfig
        Its training.
    source : Source
    objective : str

    Returns
    -------
    PatternLaw
    """
    from lookaround.theory.pattern_laws import pattern_law

    law = pattern_law(objective, source.length)
    count = parameter_count(architecture, config, vocab=source.vocab, length=source.length)
    if count > MAX_PARAMETERS:
        raise InputError(
            f"transformer: {count:,} parameters exceed {MAX_PARAMETERS:,}; lower width or layers"
        )
    work = config.steps * config.batch * source.length
    if work > 10**10:
        raise InputError(f"transformer: steps * batch * T = {work:.3g} tokens exceed 1e10")
    return law
