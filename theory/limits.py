"""The guards that refuse a request before it starts: its sizes, counts and seeds, in one line.

What a request will cost is estimated in :mod:`lookaround.theory.costs`; the limits it is
held to, and the validators of every count, size and seed a caller passes, are here.
"""

from __future__ import annotations

import os

from lookaround.base.checks import check_count
from lookaround.base.errors import InputError
from lookaround.theory.costs import (
    Estimate,
    context_work,
    draws_bytes,
    estimate,
    generation_bytes,
)
from lookaround.theory.objectives import Objective
from lookaround.theory.sources import Source

__all__ = [
    "MAX_BOOTSTRAP",
    "MAX_CONTEXT_WORK",
    "MAX_DRAWS",
    "MAX_SAMPLE_GATHERS",
    "MAX_REQUEST_SECONDS",
    "MAX_STEPS",
    "check_generation",
    "check_draws",
    "check_k",
    "check_lengths",
    "check_memory",
    "check_request",
    "check_seconds",
    "default_max_memory",
]

MAX_CONTEXT_WORK = 3_000_000_000  # r H sum_omega V^(|S|+1): past this, minutes of forward passes
MAX_SAMPLE_GATHERS = 2_000_000_000  # V^T * visible sets: the gathers that build Q
MAX_DRAWS = 20_000_000  # sampled, training or held-out draws: ~1.3 GB of tokens at T = 8
MAX_STEPS = 1_000_000  # optimizer steps
MAX_BOOTSTRAP = 10_000
MAX_REQUEST_SECONDS = 4 * 3600.0  # a request's modelled time, its runs in sequence


def check_lengths(source: Source, objective: Objective) -> None:
    """The one rule tying an objective to a source: both are of the same length ``T``.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective, which must be built for the source's ``T``.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> check_lengths(preset_source("topic"), parse_objective("ar", 5))
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: objective 'ar' is for length 5, source.length is 4
    """
    if objective.length != source.length:
        raise InputError(
            f"objective {objective.name!r} is for length {objective.length}, "
            f"source.length is {source.length}"
        )


def check_k(k: object, vocab: int) -> int:
    """The one rule for ``k``: an integer with ``1 <= k <= V``.

    ``Abar`` (and the sample graph) has rank at most ``V``, so a larger ``k`` changes nothing:
    ``s_(k+1) = 0`` already at ``k = V``.

    Parameters
    ----------
    k : object
        What the caller passed.
    vocab : int
        ``V``.

    Returns
    -------
    int

    Examples
    --------
    >>> check_k(2, 3)
    2
    >>> check_k(-1, 3)
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: k must be an integer with 1 <= k <= V = 3 (the rank of Abar is at most V), got -1
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= vocab:
        raise InputError(
            f"k must be an integer with 1 <= k <= V = {vocab} (the rank of Abar is at most V), "
            f"got {k!r}"
        )
    return k


def check_draws(value: object, field: str, *, length: int, low: int = 2) -> int:
    """A number of sequences to draw: at most ``MAX_DRAWS`` (their tokens must fit memory).

    Parameters
    ----------
    value : object
        What the caller passed.
    field : str
        Its name, as the message opens with it.
    length : int
        ``T`` of the sequences drawn.
    low : int
        The fewest draws allowed.

    Returns
    -------
    int
    """
    cost = f"{MAX_DRAWS} draws of T = {length} tokens take {draws_bytes(MAX_DRAWS, length) / 2**30:.1f} GB"
    return check_count(value, field, low=low, high=MAX_DRAWS, what=cost)


def default_max_memory() -> int:
    """A safe share of this machine: 40% of physical memory, in bytes."""
    try:
        return int(0.4 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 4 * 2**30


def check_seconds(seconds: float, what: str, advice: str, *, jobs: bool = False) -> None:
    """Refuse, in one line, a request modelled past :data:`MAX_REQUEST_SECONDS` (one thread;
    ``jobs`` says the request could spread it over ``--jobs``).

    Parameters
    ----------
    seconds : float
        The request's modelled time on one thread.
    what : str
        What it is; the message continues with the time.
    advice : str
        What to do instead.
    jobs : bool
        Whether ``--jobs`` could spread it.

    Examples
    --------
    >>> check_seconds(5e4, "the map: 400 points of", "use fewer points", jobs=True)
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: the map: 400 points of about 13.9 hours in all (on one process), past the limit of 4 hours; use fewer points
    """
    if seconds > MAX_REQUEST_SECONDS:
        raise InputError(
            f"{what} about {seconds / 3600:,.3g} hours in all{' (on one process)' if jobs else ''}, "
            f"past the limit of {MAX_REQUEST_SECONDS / 3600:g} hours; {advice}"
        )


def check_generation(source: Source, max_memory: int | None = None) -> None:
    """Refuse, in one line, exact T3 losses whose prefix table would not fit in memory.

    Parameters
    ----------
    source : Source
        The source whose exact T3 losses are asked for.
    max_memory : int, optional
        Bytes allowed; unset means 40% of this machine.
    """
    check_memory(
        generation_bytes(source),
        f"the exact generation losses hold all V^T = {source.vocab}^{source.length} prefixes, about",
        "use a shorter length or a smaller vocabulary",
        max_memory=max_memory,
    )


def check_memory(need: int, what: str, advice: str, *, max_memory: int | None = None) -> None:
    """Refuse, in one line, a request of ``need`` bytes over ``max_memory`` (unset: 40% of
    this machine): ``what`` leads to the size, ``advice`` follows it.

    Parameters
    ----------
    need : int
        Bytes the request needs.
    what : str
        What needs them; the message continues with the size.
    advice : str
        What to do instead, after the size.
    max_memory : int, optional
        Bytes allowed; unset means 40% of this machine.

    Examples
    --------
    >>> check_memory(2**40, "a table needs about", "make it smaller", max_memory=2**30)
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: source: a table needs about 1.02e+03 GB, over the limit 1.00 GB; make it smaller
    """
    limit = default_max_memory() if max_memory is None else max_memory
    if need > limit:
        raise InputError(
            f"source: {what} {need / 2**30:.3g} GB, over the limit {limit / 2**30:.2f} GB; {advice}"
        )


def check_request(
    source: Source, objective: Objective, level: str, *, chunk: int, max_memory: int | None = None
) -> Estimate:
    """Refuse, with one line suggesting the sampled mode, an exact request past the limits.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.
    level : {"context", "sample", "both"}
        The levels asked for.
    chunk : int
        Floats per block of the streamed passes.
    max_memory : int, optional
        Bytes allowed; unset means 40% of this machine.

    Returns
    -------
    Estimate
        The request's sizes, for the caller's own use.
    """
    check_lengths(source, objective)
    limit = default_max_memory() if max_memory is None else max_memory
    hint = "; monte_carlo (analyze --mc N) estimates the context level with intervals, at any size"
    work = context_work(source, objective)  # first: the estimate plans what it sizes
    if work > MAX_CONTEXT_WORK:
        raise InputError(
            f"source: {work:.3g} context-target entries under {objective.name!r} "
            f"exceed the exact limit {MAX_CONTEXT_WORK:.0e}{hint}"
        )
    est = estimate(source, objective, level=level, chunk=chunk)
    if level in ("sample", "both") and est.sample_gathers > MAX_SAMPLE_GATHERS:
        raise InputError(
            f"source: V^T = {source.vocab}^{source.length} = {est.sequences} sequences x "
            f"{est.sample_gathers // est.sequences} visible sets is too large for the exact "
            f"sample level (limit {MAX_SAMPLE_GATHERS:.0e} gathers); level='context' analyzes "
            "the context level alone"
        )
    if est.memory_bytes > limit:
        raise InputError(
            f"source: the exact {level} analysis needs about {est.memory_bytes / 2**30:.2f} GB, "
            f"over max_memory = {limit / 2**30:.2f} GB{hint}"
        )
    return est
