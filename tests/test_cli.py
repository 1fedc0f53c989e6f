"""The CLI: JSON round trips, readable tables, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lookaround.cli import main
from lookaround.theory.analysis import analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_json_matches_library(capsys):
    code, out, err = run(
        capsys, "analyze", "--source", "markov", "--objective", "mlm:2", "--k", "2", "--json"
    )
    assert code == 0 and err == ""
    data = json.loads(out)
    res = analyze(preset_source("markov"), parse_objective("mlm:2", 5), 2)
    assert data["context"]["singular_values"] == res.level("context").singular_values.tolist()
    assert data["context"]["phi"] == res.level("context").phi
    assert data["sample"]["alpha"] == res.level("sample").alpha
    for level, key in (("context", "singular_values"), ("sample", "eigenvalues")):
        values = data[level][key]
        assert len(values) >= 3 and values == sorted(values, reverse=True)
        assert data[level]["probe_error"] <= data[level]["bound"] + 1e-12


def test_analyze_reads_a_source_file(tmp_path, capsys):
    path = tmp_path / "src.json"
    path.write_text(
        json.dumps(
            {"family": "iid", "prior": [0.5, 0.5], "emit": [[0.9, 0.1], [0.1, 0.9]], "length": 3}
        )
    )
    code, out, _ = run(
        capsys,
        "analyze",
        "--source",
        str(path),
        "--objective",
        "ar",
        "--k",
        "1",
        "--level",
        "context",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and "sample" not in data and data["source"] == "src"


def test_analyze_table_is_readable(capsys):
    code, out, _ = run(capsys, "analyze", "--source", "topic", "--objective", "ar", "--k", "1")
    assert code == 0 and "context level" in out and "T2 holds" in out and "T2' holds" in out


def test_coverage_json(capsys):
    code, out, _ = run(capsys, "coverage", "--objective", "mlm:2", "--length", "5", "--json")
    data = json.loads(out)
    assert data["weights"] == [0.0, 0.0, 0.05, 0.0] and data["chi"] == "inf"
    code, out, _ = run(capsys, "coverage", "--objective", "ar", "--length", "5", "--json")
    data = json.loads(out)
    np.testing.assert_allclose(data["weights"], [0.25] * 4)
    assert abs(data["chi"] - 1.0) < 1e-12


def test_sources_lists_presets(capsys):
    code, out, _ = run(capsys, "sources")
    assert code == 0 and "sbm-walk" in out and len(out.strip().splitlines()) >= 5


@pytest.mark.parametrize(
    "argv, field",
    [
        (["analyze", "--source", "nope", "--objective", "ar", "--k", "1"], "unknown source 'nope'"),
        (
            ["analyze", "--source", "markov", "--objective", "gpt", "--k", "1"],
            "unknown objective 'gpt'",
        ),
        (
            ["analyze", "--source", "markov", "--objective", "mlm:7", "--k", "1"],
            "mask count 7 outside 1..5",
        ),
        (
            ["analyze", "--source", "markov", "--objective", "ar", "--k", "0"],
            "k must be an integer with 1 <= k <= V = 3",
        ),
        (["analyze", "--source", "markov", "--objective", "ar", "--k", "x"], "--k"),
        (["analyze", "--source", "markov"], "required"),
        (
            ["coverage", "--objective", "ar", "--length", "1"],
            "sequence length must be an integer in [2, 4096]",
        ),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, field):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("lookaround: error:")
    assert field in err


def test_oversize_and_malformed_files(tmp_path, capsys):
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"family": "iid", "prior": [1.0], "emit": [[0.1] * 10], "length": 9}))
    code, _, err = run(capsys, "analyze", "--source", str(big), "--objective", "plm", "--k", "1")
    assert code == 2 and "context-target entries under 'plm' exceed the exact limit" in err
    code, _, err = run(
        capsys,
        "analyze",
        "--source",
        str(big),
        "--objective",
        "ar",
        "--k",
        "1",
        "--level",
        "sample",
    )
    assert code == 2 and "too large for the exact sample level" in err
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {"family": "iid", "prior": [0.5, 0.5], "emit": [[0.5, 0.5], [0.3, 0.6]], "length": 3}
        )
    )
    code, _, err = run(capsys, "analyze", "--source", str(bad), "--objective", "ar", "--k", "1")
    assert code == 2 and err.strip() == (
        "lookaround: error: source.emit[1] sums to 0.9, not 1 (tolerance 1e-09)"
    )


def test_console_script_has_no_traceback_and_loads_no_heavy_modules():
    code = (
        "import sys; from lookaround.cli import main; "
        "rc = main(['coverage', '--objective', 'vmlm', '--length', '4']); "
        "rc2 = main(['analyze', '--source', 'topic', '--objective', 'ar', '--k', '1']); "
        "names = ('sympy', 'matplotlib', 'pandas', 'sklearn', 'jax', 'lookaround.figures'); "
        "heavy = [m for m in names if m in sys.modules]; "
        # the parser reads the architecture and training configs and the metric registry (its
        # choices, defaults and help), which import no more than theory does; every other
        # simulation module is heavy
        "light = ('lookaround.simulations', 'lookaround.simulations.architectures', "
        "'lookaround.simulations.training', 'lookaround.simulations.evaluations', "
        "'lookaround.simulations.metrics'); "
        "heavy += [m for m in sys.modules if m.startswith('lookaround.simulations') "
        "and m not in light]; "
        "print('HEAVY', heavy, rc, rc2)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY [] 0 0" in out


def test_sampled_mode_from_the_cli(capsys):
    argv = [
        "analyze",
        "--source",
        "hmm",
        "--objective",
        "ar",
        "--k",
        "1",
        "--sampled",
        "4000",
        "--bootstrap",
        "20",
        "--json",
    ]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)["context"]
    assert data["sampled"] is True and data["n"] == 4000 and len(data["s_2_ci"]) == 2
    assert main([*argv[:-1], "--level", "sample"]) == 2
    assert "context level only" in capsys.readouterr().err


def test_unusable_output_paths_are_one_line_errors(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["figures", "--out", str(blocker / "sub"), "--only", "spectra"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and str(blocker) in err
    grid = tmp_path / "g.toml"
    grid.write_text('[grid]\nsource = ["topic"]\nobjective = ["ar"]\n')
    assert main(["sweep", str(grid), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "is a folder, not a file" in err
    for argv in (["map", "markov2", "--x", "stick=0:1:2", "--claim", "C2", "--metric", "phi"],
                 ["search", "--claim", "C2", "--metric", "phi", "--family", "markov2"]):  # fmt: skip
        # refused before any work: before the map's points or the search's budget are spent
        assert main([*argv, "--out", str(tmp_path / "missing" / "x.json")]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "does not exist" in err
    plot = ["map", "markov2", "--x", "stick=0:1:2", "--claim", "C2", "--metric", "phi",
            "--out", str(tmp_path / "m.jsonl"), "--plot"]  # fmt: skip
    assert main([*plot, str(tmp_path / "m.xyz")]) == 2
    assert "must end in .png, .pdf, .svg" in capsys.readouterr().err
    assert not (tmp_path / "m.jsonl").exists()  # nothing ran


def test_docs_lists_and_prints_the_shipped_pages(capsys):
    from lookaround.cli.pages import DOC_PAGES

    assert main(["docs"]) == 0
    listing = capsys.readouterr().out
    assert all(f"  {name}" in listing for name in DOC_PAGES)
    folder = Path(listing.splitlines()[0].split(", in ")[1].rstrip(":"))
    assert all((folder / f"{name}.md").is_file() for name in DOC_PAGES)
    assert main(["docs", "theory"]) == 0
    assert capsys.readouterr().out.startswith("# ")
    assert main(["docs", "nothing"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
