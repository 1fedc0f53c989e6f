"""The package as a user meets it: one import name, versions, the JSON contract, extras,
examples, and a command line that never shows a traceback."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import lookaround
from lookaround.cli import main
from lookaround.theory.analysis import analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import load_source

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def _strict(text: str):
    """JSON that a strict reader accepts: no bare Infinity or NaN."""

    def refuse(name):
        raise AssertionError(f"bare {name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def test_version_everywhere(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"lookaround {lookaround.__version__}"
    done = subprocess.run(
        [sys.executable, "-m", "lookaround", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == f"lookaround {lookaround.__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "--source", "disjoint", "--objective", "mlm:2", "--k", "2", "--json"],
        ["analyze", "--source", "topic", "--objective", "ar", "--k", "1", "--sampled", "500",
         "--bootstrap", "5", "--json"],
        ["coverage", "--objective", "mlm:2", "--length", "5", "--source", "markov", "--json"],
        ["simulate", "--source", "topic", "--objective", "ar", "--steps", "20", "--n-train",
         "500", "--n-eval", "50", "--json"],
    ],
)  # fmt: skip
def test_every_json_record_carries_provenance_and_is_strict(capsys, argv):
    assert main(argv) == 0
    record = _strict(capsys.readouterr().out)
    assert record["schema_version"] == 1
    assert set(record["versions"]) == {"lookaround", "python", "numpy", "scipy"}
    assert record["versions"]["lookaround"] == lookaround.__version__


def test_one_spelling_for_non_finite_numbers(capsys):
    # disjoint classes: a disconnected graph, so s_(k+1) = 1 and T2's bound is infinite
    assert main(["analyze", "--source", "disjoint", "--objective", "ar", "--k", "1", "--json"]) == 0
    record = _strict(capsys.readouterr().out)
    assert record["context"]["bound"] == "inf"
    assert main(["coverage", "--objective", "mlm:2", "--length", "5", "--json"]) == 0
    assert _strict(capsys.readouterr().out)["chi"] == "inf"


def test_load_results_restores_what_was_written(tmp_path, capsys):
    assert main(["analyze", "--source", "disjoint", "--objective", "ar", "--k", "1", "--json"]) == 0
    path = tmp_path / "result.json"
    path.write_text(capsys.readouterr().out)
    written = _strict(path.read_text())
    frame = lookaround.load_results(path)
    assert frame.loc[0, "context.bound"] == float("inf")
    assert frame.loc[0, "context.phi"] == written["context"]["phi"]
    assert frame.loc[0, "schema_version"] == 1


def test_sources_show_round_trips_through_a_file(tmp_path, capsys):
    assert main(["sources", "--show", "markov:3"]) == 0
    path = tmp_path / "m.json"
    path.write_text(capsys.readouterr().out)
    argv = ["analyze", "--objective", "mlm:2", "--k", "2", "--level", "context", "--json"]
    assert main([*argv, "--source", "markov:3"]) == 0
    preset = _strict(capsys.readouterr().out)["context"]
    assert main([*argv, "--source", str(path)]) == 0
    assert _strict(capsys.readouterr().out)["context"] == preset


def test_one_example_per_family():
    families = {json.loads(path.read_text())["family"] for path in EXAMPLES}
    assert families == {"iid", "positional", "markov", "graph_walk", "hmm"}
    for path in EXAMPLES:
        source = load_source(path)
        res = analyze(source, parse_objective("mlm:1", source.length), 1, level="context")
        assert res.level("context").holds


@pytest.mark.parametrize(
    "module, argv, extra",
    [
        ("sympy", ["derive", "--list"], "symbolic"),
        ("matplotlib", ["figures", "--only", "generation"], "figures"),
        ("jax", ["pretrain", "--sources", "topic"], "transformer"),
        ("optax", ["pretrain", "--sources", "topic"], "transformer"),
    ],
)
def test_a_missing_extra_is_named_in_one_line(monkeypatch, capsys, tmp_path, module, argv, extra):
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # what an absent package looks like to import
    assert main([*argv, *(["--out", str(tmp_path)] if argv[0] == "figures" else [])]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"lookaround: error: lookaround {argv[0]} needs {module}: pip install 'lookaround[{extra}]'"
    )


def test_an_internal_error_is_one_line_and_debug_shows_it(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom")

    import lookaround.cli.pages as pages

    monkeypatch.setattr(pages, "_sources", broken)
    assert main(["sources"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lookaround: internal error: RuntimeError: boom")
    with pytest.raises(RuntimeError):
        main(["--debug", "sources"])


def test_a_closed_pipe_exits_quietly():
    for _ in range(4):
        done = subprocess.run(
            f"{sys.executable} -m lookaround derive coverage | head -1",
            shell=True, capture_output=True, text=True,
        )  # fmt: skip
        assert done.stderr == "" and done.stdout.startswith("T3: coverage")


def test_only_lookaround_is_importable_at_top_level():
    top = {name.split(".")[0] for name in ("theory", "simulations", "figures", "lookaround_cli")}
    code = "import importlib.util as u, sys; print([n for n in sys.argv[1:] if u.find_spec(n)])"
    done = subprocess.run(
        [sys.executable, "-c", code, *sorted(top)], capture_output=True, text=True, cwd="/"
    )
    assert done.stdout.strip() == "[]"


def test_everyday_names_are_one_import_away():
    import pydoc

    import lookaround

    assert set(lookaround.__all__) == {"__version__", *lookaround._LAZY}
    for name in lookaround._LAZY:
        module, attribute = lookaround._LAZY[name]
        assert getattr(lookaround, name) is getattr(importlib.import_module(module), attribute)
    text = pydoc.plain(pydoc.render_doc(lookaround))
    # help(lookaround) lists them under their own names
    assert all(f"\n    {name}" in text for name in ("analyze(", "check(", "parse_objective("))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        lookaround.nothing  # noqa: B018


def test_every_result_type_has_a_short_repr():
    from lookaround.simulations.robust import robust_rows
    from lookaround.theory.certificates import certify
    from lookaround.theory.coverage import generation_report
    from lookaround.theory.montecarlo import monte_carlo_context
    from lookaround.theory.presets import preset_source
    from lookaround.theory.sources import source_from_dict

    source = preset_source("markov")
    ar = parse_objective("ar", 5)
    analysis = analyze(source, ar, 2)
    results = [
        source, ar, analysis, analysis.level("context"), analysis.level("sample"),
        analysis.level("sample").connectivity, generation_report(source, ar),
        monte_carlo_context(source, "ar", 2, 2000), robust_rows(source, claims=("C3",))[0],
    ]  # fmt: skip
    witness = json.loads((Path(__file__).parents[1] / "examples/witnesses/c4_phi.json").read_text())
    exact = source_from_dict(witness["source"])
    pair = [parse_objective(name, exact.length) for name in witness["objectives"]]
    results.append(certify(exact, *pair, metric="phi", k=witness["k"], better="lower"))
    for result in results:
        text = repr(result)
        assert len(text) < 300 and "np.float64" not in text, text
        assert text.startswith(type(result).__name__ + "(")
    _check_summaries_and_frames(results[2:])


def _check_summaries_and_frames(results: list) -> None:
    for result in results:
        lines = result.summary().splitlines()
        assert lines[0] == type(result).__name__ and len(lines) > 2
        names = [line.split()[0] for line in lines[1:]]
        frame = result.to_frame()
        assert len(frame) >= 1
        if len(frame) == 1:  # one result, one row: the summary's labels are its columns
            assert names == list(frame.columns), type(result).__name__


def test_tables_frame_one_row_per_entry():
    from lookaround.simulations.robust import check
    from lookaround.simulations.runs import simulate
    from lookaround.theory.coverage import generation_report
    from lookaround.theory.presets import preset_source

    source = preset_source("markov")
    report = generation_report(source, parse_objective("mlm:2", 5))
    frame = report.to_frame()
    assert list(frame["l"]) == [1, 2, 3, 4] and list(frame["covered"]) == [
        False,
        False,
        True,
        False,
    ]
    checked = check(sources=("markov",), n_train=2000, n_eval=200)
    assert len(checked.to_frame()) == len(checked.robust) + len(checked.trained)
    run = simulate(source, parse_objective("ar", 5), steps=50, n_train=2000, n_eval=200)
    _check_summaries_and_frames([run, *checked.robust[:1], *checked.trained[:1]])


def test_the_spectral_gap_is_what_its_docstring_says():
    import networkx as nx
    import numpy as np
    from brute import Brute

    from lookaround.theory.presets import preset_source

    # one minus the second eigenvalue of each level's two-hop graph, read off an independent
    # route: the dense graph built by brute force, its normalized Laplacian from networkx
    source = preset_source("hmm")
    result = analyze(source, parse_objective("mlm:2", 5), 2, level="both")
    brute = Brute(source, "mlm:2")
    a = brute.A[brute.A.sum(axis=1) > 0]
    graphs = {"context": a @ (a / a.sum(axis=0)).T, "sample": brute.sample_kernel()}
    for level, weights in graphs.items():
        laplacian = nx.normalized_laplacian_spectrum(nx.from_numpy_array(weights))
        second = np.sort(laplacian)[1]  # the smallest is 0; the next is the gap
        assert result.level(level).connectivity.spectral_gap == pytest.approx(second, abs=1e-9)


def test_seeds_accept_what_numpy_users_pass():
    import numpy as np

    from lookaround.base.seeds import as_seed
    from lookaround.theory.montecarlo import monte_carlo_context
    from lookaround.theory.presets import preset_source

    source = preset_source("markov")

    def record(seed) -> dict:
        return monte_carlo_context(source, "ar", 2, 2000, seed=seed).to_dict()

    sequence = record(np.random.SeedSequence(11))
    assert sequence == record(as_seed(np.random.SeedSequence(11)))  # the same bits
    assert record(np.random.default_rng(11)) == record(as_seed(np.random.default_rng(11)))
    assert sequence["seed"] == as_seed(np.random.SeedSequence(11))  # the int is recorded
    with pytest.raises(TypeError, match="seed must be an int"):
        as_seed(1.5)  # type: ignore[arg-type]
