"""Grid sweeps: expand a TOML grid, run each configuration once, write tidy JSON lines.

The results file starts with a header naming the grid's hash; every later line is one run's
row, written with a single ``write`` on an append-only descriptor and synced, so an
interrupted sweep leaves at most one partial last line. A restart drops that line, skips
every configuration already present and runs the rest: no row is lost or duplicated.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import string
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

from lookaround.theory.encoding import dumps, provenance
from lookaround.theory.errors import InputError

TEMPLATES = ("source", "objective")
SETTINGS = {
    "mode": "exact",
    "model": "tabular",
    "loss": "spectral",
    "steps": None,
    "n_train": 20_000,
    "n_eval": 1000,
}


def config_hash(config: dict) -> str:
    """Stable 16-hex hash of a configuration (sorted-key JSON).

    Examples
    --------
    >>> config_hash({"b": 1, "a": 2}) == config_hash({"a": 2, "b": 1})
    True
    """
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def load_grid(path: str | Path) -> dict:
    """Read and validate a grid file (see the README for the format)."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise InputError(f"grid file {str(path)!r}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
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
    used = {name for key in TEMPLATES for t in grid[key] for name in _fields(t)}
    for name in used - set(grid):
        raise InputError(f"grid: a template uses {{{name}}}, but grid.{name} is not defined")
    for name in set(grid) - used - set(TEMPLATES) - {"k", "seed"}:
        raise InputError(f"grid.{name} is not used by any source or objective template")
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise InputError(
            f"sweep.{sorted(unknown)[0]} is not a setting (known: {', '.join(SETTINGS)})"
        )
    if settings["mode"] not in ("exact", "train"):
        raise InputError(f"sweep.mode must be 'exact' or 'train', got {settings['mode']!r}")
    return {"grid": grid, "sweep": settings}


def expand(spec: dict) -> list[dict]:
    """Every configuration of a grid, each template filled only with the parameters it uses."""
    grid, configs = spec["grid"], []
    for source_t, objective_t in itertools.product(grid["source"], grid["objective"]):
        names = sorted(set(_fields(source_t)) | set(_fields(objective_t)))
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
    """One row: the exact analysis (and, in train mode, a simulated run) of a configuration."""
    from lookaround.theory.analysis import analyze
    from lookaround.theory.coverage import alignment, generation_report, prefix_weights
    from lookaround.theory.objectives import parse_objective
    from lookaround.theory.presets import resolve_source

    source = resolve_source(config["source"])
    objective = parse_objective(config["objective"], source.length)
    k = config["k"]
    res = analyze(source, objective, k)
    ctx, smp = res.context, res.sample
    row = {
        "hash": config_hash(config),
        "config": config,
        "s_k1": float(ctx.spectrum[k]),
        "phi": ctx.disagreement,
        "context_probe_error": ctx.probe_error,
        "context_bound": ctx.bound,
        "lambda_k1": float(smp.spectrum[k]),
        "alpha": smp.disagreement,
        "sample_probe_error": smp.probe_error,
        "sample_bound": smp.bound,
        "averaged_probe_error": smp.extra["averaged_probe_error"],
        "support_fraction": smp.extra["support_fraction"],
        "effective_degree": smp.extra["effective_degree"],
        "within_class_gap": smp.extra["within_class_gap"],
        "chi": alignment(prefix_weights(objective)),
        "generation_excess": generation_report(source, objective).total_excess,
    }
    if config["mode"] == "train":
        from lookaround.simulations.runs import simulate

        run = simulate(
            source,
            objective,
            config["model"],
            config["loss"],
            k,
            steps=config["steps"],
            seed=config["seed"],
            n_train=config["n_train"],
            n_eval=config["n_eval"],
        )
        row.update(
            {
                "trained_" + key: getattr(run, key)
                for key in ("final_loss", "gap", "probe_error", "ari", "nmi", "generation_excess")
            }
        )
    return row


def _read_results(path: Path, grid_hash: str) -> tuple[set[str], int]:
    """Hashes already done, and the byte length of the file's complete lines."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    complete = len(data) - len(lines[-1])  # a last line without newline is partial
    try:
        header = json.loads(lines[0]) if complete else None
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("grid_hash") != grid_hash:
        found = header.get("grid_hash") if isinstance(header, dict) else "no header"
        raise InputError(
            f"results file {str(path)!r} belongs to another grid ({found} != {grid_hash}); "
            "choose another --out"
        )
    done = set()
    for line in lines[1:-1]:
        done.add(json.loads(line)["hash"])
    return done, complete


def _append(fd: int, obj: dict) -> None:
    os.write(fd, (dumps({**provenance(), **obj}, sort_keys=True) + "\n").encode())
    os.fsync(fd)


def _executor(
    configs: list[dict], run: Callable[[dict], dict], jobs: int, scheduler: str | None
) -> Iterator[dict]:
    if scheduler:
        try:
            from dask.distributed import Client, as_completed
        except ImportError:
            raise InputError(
                "--scheduler needs dask.distributed: pip install 'lookaround[dask]'"
            ) from None
        with Client(scheduler) as client:
            for future in as_completed(client.map(run, configs, pure=False)):
                yield future.result()
        return
    if jobs == 1:
        yield from map(run, configs)
        return
    from joblib import Parallel, delayed

    yield from Parallel(n_jobs=jobs, return_as="generator_unordered")(
        delayed(run)(c) for c in configs
    )


def run_sweep(
    grid_path: str | Path,
    out: str | Path,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> dict:
    """Run every configuration of ``grid_path`` not already in ``out``; returns counts.

    Raises
    ------
    InputError
        A malformed grid, or ``out`` holding another grid's rows (left untouched).
    """
    spec = load_grid(grid_path)
    return run_configs(spec, expand(spec), run_config, out, jobs, scheduler, progress)


def run_configs(
    header: dict,
    configs: list[dict],
    run: Callable[[dict], dict],
    out: str | Path,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> dict:
    """The sweep engine: ``run`` each configuration not yet in ``out``, one JSON line each.

    ``header`` (the grid, or a map's request) is hashed into the file's first line, so a
    results file is only ever resumed by the request that started it. ``run`` must be a
    module-level function (it crosses process boundaries) returning a row with ``hash``.
    """
    from tqdm import tqdm

    grid_hash = config_hash(header)
    out = Path(out)
    done: set[str] = set()
    if out.exists() and out.stat().st_size:
        done, complete = _read_results(out, grid_hash)
        if complete < out.stat().st_size:
            os.truncate(out, complete)  # drop the partial line an interruption left
    todo = [c for c in configs if config_hash(c) not in done]
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        if not done and os.fstat(fd).st_size == 0:
            _append(fd, {"grid_hash": grid_hash, "grid": header})
        bar = tqdm(
            total=len(configs), initial=len(configs) - len(todo), disable=not progress, unit="run"
        )
        for row in _executor(todo, run, jobs, scheduler):
            _append(fd, row)
            bar.update()
        bar.close()
    finally:
        os.close(fd)
    return {
        "configs": len(configs),
        "skipped": len(configs) - len(todo),
        "ran": len(todo),
        "out": str(out),
    }
