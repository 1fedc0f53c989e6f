"""Every figure is produced, non-trivial, notebook-friendly, venue-ready and byte-stable."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import matplotlib.image as mpimg
import numpy as np
import pytest
from matplotlib.figure import Figure

from lookaround.cli import main
from lookaround.figures.render import catalog, render
from lookaround.figures.style import COLUMN, WIDE, save


def test_the_catalog_holds_every_figure():
    assert len(catalog()) >= 9


SLOW_FIGURES = ("regions", "pretrain", "belief")  # exact maps 14 s; training 24 s and 60 s


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_FIGURES else n for n in catalog()]
)
def test_each_figure_is_drawn_not_blank_page_wide_with_no_legend_over_data(name, tmp_path):
    fig = catalog()[name].draw()
    image = mpimg.imread(save(fig, tmp_path / name, "png"))
    assert image.shape[0] > 200 and image.shape[1] > 300
    # a blank or single-color canvas has no spread of pixel values
    assert np.std(image[..., :3]) > 0.05
    assert round(fig.get_figwidth(), 2) in (COLUMN, WIDE)
    # legends live outside the panels (figure legends), never inside an axes
    assert all(ax.get_legend() is None for ax in fig.axes)


def test_a_given_figure_is_drawn_into_and_returned():
    module: Any = catalog()["generation"]
    fig = Figure(figsize=(5, 4))
    assert module.draw(fig=fig) is fig and len(fig.axes) == 2


def test_importing_the_figures_changes_no_global_state():
    code = (
        "import matplotlib; backend = matplotlib.get_backend(); "
        "before = dict(matplotlib.rcParams); "
        "from lookaround.figures.render import catalog; [m.draw for m in catalog().values()]; "
        "changed = [k for k, v in matplotlib.rcParams.items() if before[k] != v]; "
        "print(matplotlib.get_backend() == backend, changed)"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "True []", done.stderr


def test_pdf_embeds_truetype_not_type3_fonts(tmp_path):
    pdf = render(tmp_path, only="generation", fmt="pdf")[0]["file"]
    data = open(pdf, "rb").read()
    assert b"/FontFile2" in data and b"/Type3" not in data


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_same_seed_same_bytes(tmp_path, fmt):
    first = render(tmp_path / "a", only="generation", fmt=fmt)[0]["file"]
    second = render(tmp_path / "b", only="generation", fmt=fmt)[0]["file"]
    assert open(first, "rb").read() == open(second, "rb").read()


@pytest.mark.parametrize("name", ["graphs", "spectra"])
def test_same_bytes_whatever_the_hash_seed(tmp_path, name):
    files = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        argv = [sys.executable, "-m", "lookaround", "figures", "--only", name, "--out", str(out)]
        subprocess.run(argv, check=True, capture_output=True, env=env)
        files.append((out / f"{name}.png").read_bytes())
    assert files[0] == files[1]


def test_figures_cli_errors(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path), "--only", "nope"]) == 2
    assert "unknown figure 'nope'" in capsys.readouterr().err
    assert main(["figures", "--out", str(tmp_path), "--format", "gif"]) == 2
    assert "--format must be one of png, pdf, svg" in capsys.readouterr().err


def test_every_figure_draws_the_users_own_results():
    for name, module in catalog().items():  # a plot_* beside every preset figure
        assert any(n.startswith("plot_") for n in module.__all__), name
    from lookaround.figures.f1_graphs import plot_graphs
    from lookaround.figures.f2_spectra import plot_spectra
    from lookaround.figures.f3_bounds import plot_bounds
    from lookaround.figures.f6_generation import plot_generation
    from lookaround.theory.analysis import analyze
    from lookaround.theory.coverage import generation_report
    from lookaround.theory.objectives import parse_objective
    from lookaround.theory.sources import source_from_dict

    # a user's own source: two classes of i.i.d. tokens, built from a dict
    source = source_from_dict({"family": "iid", "prior": [0.3, 0.7], "length": 3,
                               "emit": [[0.6, 0.3, 0.1], [0.1, 0.3, 0.6]]})  # fmt: skip
    specs = ("ar", "mlm:1")
    objectives = {s: parse_objective(s, 3) for s in specs}
    fig = Figure()
    axes = fig.subplots(2, 3)
    plot_graphs(source, objectives["ar"], ax=axes[0])
    spectra = plot_spectra({s: analyze(source, o, 3) for s, o in objectives.items()}, ax=axes[1, 0])
    assert [line.get_label() for line in spectra.get_lines()] == list(specs)
    bounds = plot_bounds([analyze(source, objectives["mlm:1"], k) for k in (1, 2)], ax=axes[1, 1])
    assert np.asarray(bounds.get_lines()[1].get_xdata()).tolist() == [1, 2]
    reports = {s: generation_report(source, o) for s, o in objectives.items()}
    top, bottom = plot_generation(reports, ax=[axes[1, 2], fig.add_subplot(3, 3, 9)])
    assert np.asarray(bottom.get_lines()[0].get_ydata())[0] == reports["ar"].excess[0]


def _plane(margins: list[list[float]], verdicts: list[list[str]]) -> tuple[dict, list[dict]]:
    """A two-knob map's header and rows with the given margins and verdicts."""
    ny, nx = len(margins), len(margins[0])
    header = {"x": {"name": "a", "values": list(range(nx))},
              "y": {"name": "b", "values": list(range(ny))}}  # fmt: skip
    rows = [{"config": {"knobs": {"a": j, "b": i}}, "margin": margins[i][j],
             "verdict": verdicts[i][j]} for i in range(ny) for j in range(nx)]  # fmt: skip
    return header, rows


def _zero_lines(ax) -> list:
    from matplotlib.contour import ContourSet

    sets = [c for c in ax.get_children() if isinstance(c, ContourSet)]
    return [segment for c in sets for segment in c.allsegs[0]]


def test_the_zero_line_runs_through_a_band_of_ties_and_never_circles_a_lone_one():
    from lookaround.figures.maps import plot_map

    # wins on the left, losses on the right, a band of ties between: one line, unbroken
    band = [[1.0, 0.5, 1e-12, -0.5, -1.0]] * 5
    verdicts = [["holds", "holds", "tie", "fails", "fails"]] * 5
    ax = plot_map(*_plane(band, verdicts), panel=True)
    assert len(_zero_lines(ax)) == 1
    # a tie inside a region of wins: no line at all
    lone = [[1.0] * 3, [1.0, -1e-12, 1.0], [1.0] * 3]
    ax = plot_map(*_plane(lone, [["holds"] * 3, ["holds", "tie", "holds"], ["holds"] * 3]),
                  panel=True)  # fmt: skip
    assert _zero_lines(ax) == []


def test_a_map_plot_says_what_its_marks_are():
    from lookaround.figures.maps import plot_map

    margins = [[1.0, 1e-12, -1.0], [1.0, float("nan"), -1.0]]
    verdicts = [["holds", "tie", "fails"], ["holds", "ambiguous", "fails"]]
    ax = plot_map(*_plane(margins, verdicts))
    (legend,) = ax.figure.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["margin = 0", "tie: |margin| within the tolerance",
                      "ambiguous: s_k = s_(k+1), no verdict"]  # fmt: skip
    assert len(ax.figure.axes) == 2  # the map and its colour bar
    panel = plot_map(*_plane(margins, verdicts), panel=True)
    assert len(panel.figure.axes) == 1 and not panel.figure.legends  # the figure draws both


def test_a_map_of_ambiguous_cells_alone_draws_without_a_warning():
    import warnings

    from lookaround.figures.maps import plot_map

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_map(*_plane([[float("nan")] * 3] * 2, [["ambiguous"] * 3] * 2))
    assert _zero_lines(ax) == []
