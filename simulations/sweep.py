"""Grid sweeps: a TOML grid expanded into configurations, each run once on the process engine
(:mod:`lookaround.simulations.engine`), one tidy JSON line per run."""

from __future__ import annotations

import itertools
import math
import string
import tomllib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Unpack

from lookaround.base.checks import check_seed
from lookaround.base.errors import InputError
from lookaround.base.extras import require
from lookaround.base.files import read_bytes
from lookaround.simulations.architectures import architecture_config
from lookaround.simulations.engine import EngineOptions, config_hash, run_configs
from lookaround.simulations.metrics import METRICS, ExactSource
from lookaround.simulations.models import LOSSES, MODELS
from lookaround.theory.cooccurrence import DEFAULT_CHUNK
from lookaround.theory.limits import check_draws, check_k, check_request
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import resolve_source

__all__ = [
    "CHOICES",
    "SETTINGS",
    "SweepMode",
    "TEMPLATES",
    "check_config",
    "expand",
    "load_grid",
    "run_config",
    "run_sweep",
]


class SweepMode(StrEnum):
    """What a sweep row holds: the exact analysis, plus a simulated run (``train``) or a
    transformer pretrained and evaluated population-exact (``pretrain``)."""

    EXACT = "exact"
    TRAIN = "train"
    PRETRAIN = "pretrain"


TEMPLATES = ("source", "objective")
SETTINGS = {
    "mode": SweepMode.EXACT.value,
    "model": "tabular",
    "loss": "spectral",
    "steps": None,
    "n_train": 20_000,
    "n_eval": 1000,
}


MAX_CONFIGS = 100_000  # a grid's configurations, counted before any is built
# a row's exact columns, in METRICS' order: (column, metric)
SWEPT = tuple((m.column, m) for m in METRICS.values() if m.column is not None)


def _fields(template: str) -> list[str]:
    """The parameters a template names: plain ``{name}`` fields only (no positional ``{}``,
    attribute, index, conversion or format spec, which ``str.format`` would apply)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InputError(f"grid template {template!r} is malformed: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is not None and (not name.isidentifier() or spec or conversion):
            raise InputError(
                f"grid template {template!r}: fields must be plain {{name}}, got "
                f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
            )
    return [name for _, name, _, _ in parsed if name]


def _check_values(grid: dict) -> None:
    """Every grid value a string or a finite number (TOML dates, tables and arrays are not)."""
    for key, values in grid.items():
        for value in values:
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (isinstance(value, str) or (number and math.isfinite(value))):
                raise InputError(f"grid.{key} holds {value!r}; values are strings or numbers")


def _template_pairs(grid: dict) -> Iterator[tuple[str, str, list[str]]]:
    """Each (source, objective) template pair with the parameters the two use, sorted."""
    for source_t, objective_t in itertools.product(grid["source"], grid["objective"]):
        yield source_t, objective_t, sorted(set(_fields(source_t)) | set(_fields(objective_t)))


def _count(grid: dict) -> int:
    """How many configurations the grid expands to (before duplicates are merged)."""
    per_pair = len(grid["k"]) * len(grid["seed"])
    return sum(
        math.prod(len(grid[n]) for n in names) * per_pair for _, _, names in _template_pairs(grid)
    )


def load_grid(path: str | Path) -> dict:
    """Read and validate a grid file (see the README for the format).

    Parameters
    ----------
    path : str or Path
        A TOML grid.

    Returns
    -------
    dict
    """
    raw = read_bytes(path, "grid file")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"grid file {str(path)!r} is not UTF-8 (at byte {exc.start})") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise InputError(f"grid file {str(path)!r} is not valid TOML: {exc}") from None
    unknown = set(data) - {"grid", "sweep"}
    if unknown:
        raise InputError(
            f"grid: unknown table [{sorted(unknown)[0]}] (expected [grid] and [sweep])"
        )
    grid, settings = data.get("grid"), {**SETTINGS, **data.get("sweep", {})}
    if not isinstance(grid, dict):
        raise InputError("grid: the [grid] table is missing")
    for key, value in grid.items():
        if not isinstance(value, list) or not value:
            raise InputError(f"grid.{key} must be a non-empty list")
    for key in TEMPLATES:
        if key not in grid or not all(isinstance(v, str) for v in grid[key]):
            raise InputError(f"grid.{key} must be a list of strings")
    grid.setdefault("k", [2])
    grid.setdefault("seed", [0])
    for key in ("k", "seed"):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in grid[key]):
            raise InputError(f"grid.{key} must be a list of integers")
    if any(v < 1 for v in grid["k"]):
        raise InputError("grid.k must hold integers >= 1")
    _check_values(grid)
    used = {name for key in TEMPLATES for t in grid[key] for name in _fields(t)}
    for name in used - set(grid):
        raise InputError(f"grid: a template uses {{{name}}}, but grid.{name} is not defined")
    for name in set(grid) - used - set(TEMPLATES) - {"k", "seed"}:
        raise InputError(f"grid.{name} is not used by any source or objective template")
    if (count := _count(grid)) > MAX_CONFIGS:
        raise InputError(f"grid: {count:.3g} configurations, over the limit of {MAX_CONFIGS}")
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise InputError(
            f"sweep.{sorted(unknown)[0]} is not a setting (known: {', '.join(SETTINGS)})"
        )
    _check_settings(settings)
    return {"grid": grid, "sweep": settings}


CHOICES = {"mode": tuple(m.value for m in SweepMode), "model": MODELS, "loss": LOSSES}


def _check_settings(settings: dict) -> None:
    """The [sweep] table: named choices, and whole numbers where counts are expected."""
    for key, choices in CHOICES.items():
        if settings[key] not in choices:
            raise InputError(
                f"sweep.{key} must be one of {', '.join(map(repr, choices))}, got {settings[key]!r}"
            )
    for key in ("steps", "n_train", "n_eval"):
        value = settings[key]
        if key == "steps" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"sweep.{key} must be an integer >= 1, got {value!r}")


def expand(spec: dict) -> list[dict]:
    """Every configuration of a grid, each template filled only with the parameters it uses.

    Parameters
    ----------
    spec : dict
        A grid (the parsed TOML).

    Returns
    -------
    list of dict
        Every configuration, in the grid's order.
    """
    grid, configs = spec["grid"], []
    for source_t, objective_t, names in _template_pairs(grid):
        for values in itertools.product(*(grid[n] for n in names), grid["k"], grid["seed"]):
            params = dict(zip(names, values[: len(names)]))
            configs.append(
                {
                    "source": source_t.format(**params),
                    "objective": objective_t.format(**params),
                    "k": values[-2],
                    "seed": values[-1],
                    **params,
                    **spec["sweep"],
                }
            )
    unique = {config_hash(c): c for c in configs}
    return list(unique.values())


def run_config(config: dict) -> dict:
    """One row: the exact analysis (and, in train mode, a simulated run) of a configuration.

    Parameters
    ----------
    config : dict
        One configuration.

    Returns
    -------
    dict
        Its JSON row.
    """
    source = resolve_source(config["source"])
    exact = ExactSource(source)
    objective, k = exact.objective(config["objective"]), config["k"]
    row = {"hash": config_hash(config), "config": config}
    row.update({column: m.read(exact, config["objective"], k) for column, m in SWEPT})
    if config["mode"] == SweepMode.PRETRAIN:
        row.update(_pretrained(config))
    if config["mode"] == SweepMode.TRAIN:
        # scikit-learn, behind the runs, takes 2 s to import (measured): exact rows skip it
        from lookaround.simulations.runs import Diverged, simulate

        keys = ("final_loss", "gap", "probe_error", "ari", "nmi", "generation_excess")
        try:
            run = simulate(source, objective, model=config["model"], loss=config["loss"], k=k,
                           steps=config["steps"], seed=config["seed"],
                           n_train=config["n_train"], n_eval=config["n_eval"])  # fmt: skip
        except Diverged as exc:
            # a setting whose training diverges is a result of the sweep, not a crash
            row.update({"status": "diverged", "detail": str(exc)})
            row.update({"trained_" + key: float("nan") for key in keys})
            return row
        row["status"] = "ok"
        row.update({"trained_" + key: getattr(run, key) for key in keys})
    return row


def _transformer_settings(config: dict) -> dict:
    """A grid configuration's transformer settings (``steps`` unset: the transformer's own)."""
    settings = {"loss": config["loss"], "k": config["k"]}
    return settings if config["steps"] is None else {**settings, "steps": config["steps"]}


def _pretrained(config: dict) -> dict:
    """``pretrain_*`` numbers of a transformer trained on the configuration (docs/theory.md §10)."""
    from lookaround.simulations.agreement import pretrain_one

    final, result = pretrain_one(config["source"], config["objective"], ks=(config["k"],),
                                 seed=config["seed"], settings=_transformer_settings(config))  # fmt: skip
    t1 = result.at(config["k"])
    values = {"final_loss": final, "generation_excess": result.generation_excess,
              "objective_excess": result.objective_excess, "t1_probe_error": t1.probe_error,
              "t1_ari": t1.ari}  # fmt: skip
    for part in ("raw", "pooled"):
        metrics = getattr(result, part)
        values.update({f"{part}_probe_error": metrics.probe_error, f"{part}_ari": metrics.ari})
    return {"pretrain_" + key: value for key, value in values.items()}


def run_sweep(grid_path: str | Path, out: str | Path, **options: Unpack[EngineOptions]) -> dict:
    """Run every configuration of ``grid_path`` not already in ``out``; returns counts.

    Every configuration is validated and sized before the first run, so a bad entry deep in
    a grid is refused at once, not after hours.

    Parameters
    ----------
    grid_path : str or Path
        The TOML grid.
    out : str or Path
        The results file.
    **options
        As :func:`lookaround.simulations.engine.run_configs` takes them.

    Returns
    -------
    dict

    Raises
    ------
    InputError
        A malformed grid or configuration, or ``out`` holding another grid's rows or a
        corrupt line (left untouched unless ``repair``).
    """
    spec = load_grid(grid_path)
    configs = expand(spec)
    for config in configs:
        check_config(config)
    _check_pretraining_budget([c for c in configs if c["mode"] == SweepMode.PRETRAIN])
    return run_configs(spec, configs, run_config, out, **options)


def _check_pretraining_budget(configs: list[dict]) -> None:
    """The grid's transformer runs sized together (each was sized alone by check_config)."""
    if not configs:
        return
    from lookaround.simulations.training import check_budget, training_config

    settings = [_transformer_settings(c) for c in configs]
    check_budget([(architecture_config(s), training_config(s), resolve_source(c["source"]).length)
                  for s, c in zip(settings, configs)])  # fmt: skip


def check_config(config: dict) -> None:
    """Everything a run would refuse, refused now: source, objective, ``k``, sizes, seeds.

    Parameters
    ----------
    config : dict
        One configuration of a grid.
    """
    where = f"grid configuration {config['source']!r} x {config['objective']!r}"
    try:
        source = resolve_source(config["source"])
        objective = parse_objective(config["objective"], source.length)
        check_k(config["k"], source.vocab)
        check_seed(config["seed"], "seed")
        check_request(source, objective, "both", chunk=DEFAULT_CHUNK)
        if config["mode"] == SweepMode.PRETRAIN:
            require("jax", "transformer", "sweep mode 'pretrain'")
            from lookaround.simulations.agreement import check_one

            check_one(config["source"], config["objective"], ks=(config["k"],),
                      settings=_transformer_settings(config))  # fmt: skip
        if config["mode"] == SweepMode.TRAIN:
            check_draws(config["n_train"], "sweep.n_train", length=source.length)
            check_draws(config["n_eval"], "sweep.n_eval", length=source.length, low=4)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
