"""What a new user meets in the first hour: help, pages, notes and tables that read."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from lookaround.cli import build_parser, main
from lookaround.simulations.agreement import PretrainComparison, PretrainRequest, theory_of
from lookaround.simulations.pretrain import evaluate, exact_outputs, population
from lookaround.simulations.pretrain_runs import PretrainTable
from lookaround.simulations.records import record
from lookaround.simulations.verdicts import TABLE_WIDTH, agreement_table, format_agreement
from lookaround.theory.presets import resolve_source

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices.items()  # type: ignore[attr-defined]


def test_no_help_states_a_default_twice():
    for name, sub in _subparsers():
        for action in sub._actions:
            text = sub.formatter_class(prog=name)._get_help_string(action)  # type: ignore[call-arg]
            shown = text.replace("%(default)s", str(action.default))
            assert len(re.findall(r"\bdefault\b", shown)) <= 1, (name, action.dest, shown)


def test_a_docs_page_prints_without_its_notebook_header(capsys):
    code, out, _ = run(capsys, "docs", "tutorial")
    assert code == 0
    assert out.startswith("# Tutorial"), out[:80]
    assert "jupytext" not in out.split("\n\n")[0]


def test_an_objective_that_shows_nothing_says_so(capsys):
    code, out, _ = run(capsys, "analyze", "--source", "markov", "--objective", "mlm:5", "--k",
                       "1", "--level", "context")  # fmt: skip
    assert code == 0 and "leaves nothing visible at T = 5" in out
    code, out, _ = run(capsys, "analyze", "--source", "markov", "--objective", "mlm:4", "--k",
                       "1", "--level", "context")  # fmt: skip
    assert code == 0 and "nothing visible" not in out


def test_rounding_residue_prints_as_zero_on_the_command_line(capsys):
    code, out, _ = run(capsys, "analyze", "--source", "topic", "--objective", "ar", "--k", "2")
    assert code == 0
    spectra = [
        line for line in out.splitlines() if "singular_values" in line or "eigenvalues" in line
    ]
    assert spectra and not any(re.search(r"e-(1[3-9]|[2-9]\d)", line) for line in spectra)


def _table(seeds: tuple[int, ...], sources=("topic", "markov"), comparisons=()):
    request = PretrainRequest(sources=sources, objectives=("ar", "mlm:1"), seeds=seeds, ks=(2,),
                              comparisons=comparisons)  # fmt: skip
    rows = []
    for name in sources:
        source = resolve_source(name)
        pop = population(source)
        for objective in request.objectives:
            theory = theory_of(name, objective)
            evaluation = evaluate(exact_outputs(theory), theory, pop, source, ks=(2,))
            rows += [{"config": {"source": name, "objective": objective, "seed": s},
                      **record(evaluation)} for s in seeds]  # fmt: skip
    return agreement_table(request, rows)


def test_the_pretraining_table_fits_its_width_and_states_its_rule():
    text = format_agreement(_table((0, 1)))
    assert all(len(line) <= TABLE_WIDTH for line in text.splitlines()), max(
        map(len, text.splitlines())
    )
    assert "topic: ar vs mlm:1 (2 seeds)" in text and "markov: ar vs mlm:1" in text
    assert "2 standard errors" in text and "a screen, not a test" in text
    assert "probe_t1 = probe error, T1 map" in text


def test_a_spread_over_one_seed_is_not_applicable():
    rows = _table((0,), sources=("topic",))
    assert all(np.isnan(r.network_first[1]) for r in rows)
    text = format_agreement(rows)
    assert "±n/a" in text and "±0.000 " not in text and "(1 seed)" in text


def test_a_file_source_is_named_by_its_name(tmp_path):
    from lookaround.theory.sources import save_source

    path = tmp_path / "my-source.json"
    source = resolve_source("topic")
    save_source(source, path)
    rows = _table((0, 1), sources=(str(path),))
    assert {r.source for r in rows} == {resolve_source(str(path)).name}
    assert str(tmp_path) not in format_agreement(rows)


@pytest.mark.slow
def test_figures_print_each_caption(capsys, tmp_path):
    code, out, _ = run(capsys, "figures", "--only", "generation", "--out", str(tmp_path))
    from lookaround.figures import f6_generation

    assert code == 0
    words = " ".join(out.split())
    assert " ".join(f6_generation.CAPTION.split())[:80] in words


def test_dir_shows_the_public_names_once():
    import lookaround

    lookaround.analyze  # noqa: B018 (accessed once, as a user would)
    names = dir(lookaround)
    assert len(names) == len(set(names))
    assert not {"Any", "importlib", "version", "TYPE_CHECKING"} & set(names)
    assert {"analyze", "pretrain", "spectral_embedding", "theory", "figures"} <= set(names)
    assert lookaround.theory.__name__ == "lookaround.theory"


def test_the_figures_package_exports_every_plot():
    import lookaround.figures as figures
    from lookaround.figures import f1_graphs, f6_generation

    assert figures.plot_generation is f6_generation.plot_generation
    assert figures.plot_graphs is f1_graphs.plot_graphs
    assert all(name.startswith("plot_") for name in figures.__all__) and len(figures.__all__) == 12
    for name in figures.__all__:
        assert callable(getattr(figures, name))


def test_every_plot_takes_ax_and_the_old_axes_warns():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lookaround.figures import f6_generation
    from lookaround.theory.coverage import generation_report

    reports = {s: generation_report("markov", s) for s in ("ar", "mlm:2")}
    fig, axes = plt.subplots(2)
    assert tuple(f6_generation.plot_generation(reports, ax=axes)) == tuple(axes)
    with pytest.warns(DeprecationWarning, match="use ax="):
        f6_generation.plot_generation(reports, axes=axes)
    plt.close(fig)


def test_the_generation_plot_marks_what_a_log_axis_cannot_show():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lookaround.figures.f6_generation import plot_generation
    from lookaround.theory.coverage import generation_report

    reports = {s: generation_report("markov", s) for s in ("ar", "mlm:2")}
    top, bottom = plot_generation(reports)
    crosses = [line for line in top.get_lines() if line.get_marker() == "x"]
    uncovered = int(sum(np.sum(r.weights == 0) for r in reports.values()))
    assert uncovered == 3
    assert sum(np.asarray(line.get_xdata()).size for line in crosses) == uncovered
    assert bottom.get_legend() is not None
    assert any("uncovered" in t.get_text() for t in top.texts)
    plt.close("all")


def test_the_graphs_say_what_their_node_colours_are():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lookaround.figures.f1_graphs import plot_graphs, tiny_source

    axes = plot_graphs(tiny_source(), "ar")
    legends = [axes[0].get_legend(), axes[2].get_legend()]
    keys = [[t.get_text() for t in legend.get_texts()] for legend in legends if legend]
    assert keys == [["context", "target"], ["class 0", "class 1"]]
    plt.close("all")


def test_the_notebooks_extra_brings_what_the_readme_says_to_run():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extra = " ".join(project["optional-dependencies"]["notebooks"])
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "pip install -e '.[notebooks]'" in readme
    for tool in ("jupyterlab", "nbconvert", "nbclient", "ipykernel", "jupytext", "transformer"):
        assert tool in extra, tool
    assert "jupyter lab docs/tutorial.ipynb" in readme
    assert "jupyter nbconvert --to notebook --execute docs/tutorial.ipynb" in readme


def test_a_claims_comparison_reads_the_metrics_of_its_kind():
    # the full-rank probe classifies though it uses no k: C2's rows, never C3's
    pairs = (PretrainComparison("mlm:1", "ar", claim="C2", kind="classification"),
             PretrainComparison("ar", "mlm:1", claim="C3", kind="generation"))  # fmt: skip
    rows = _table((0, 1), sources=("topic",), comparisons=pairs)
    by_claim = {c: {r.metric for r in rows if r.claim == c} for c in ("C2", "C3")}
    assert by_claim["C3"] == {"generation excess (nats)"}
    assert "probe error, T1 map at full rank" in by_claim["C2"]
    assert "generation excess (nats)" not in by_claim["C2"]


def test_a_one_class_source_compares_generation_alone():
    rows = _table((0, 1), sources=("mess3(T=5)",))
    assert {r.metric for r in rows} == {"generation excess (nats)"}
    table = PretrainTable(PretrainRequest(sources=("mess3(T=5)",), objectives=("ar", "mlm:1")),
                          rows, Path("results.jsonl"), 4, 0)  # fmt: skip
    assert "one class, so every classifier is right" in table.summary()
