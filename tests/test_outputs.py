"""No output loses a row of another file: every writer checks its outputs before any work
(the same file twice, another command's results file, a file being written, a device or a
pipe; through symbolic and hard links)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from lookaround.base.errors import InputError
from lookaround.base.results import read_records
from lookaround.cli import main
from lookaround.simulations.journal import Journal

MAP = ["map", "markov2", "--x", "stick=0:1:3", "--claim", "C2", "--metric", "s_k1", "--jobs", "1"]
SEARCH = ["search", "--family", "markov2", "--claim", "C2", "--metric", "s_k1", "--holds",
          "--evaluations", "3"]  # fmt: skip


def _refused(capsys, argv: list[str], words: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err


@pytest.fixture
def finished_map(tmp_path, capsys) -> Path:
    out = tmp_path / "map.jsonl"
    assert main([*MAP, "--out", str(out)]) == 0
    capsys.readouterr()
    assert len(read_records(out)) == 3
    return out


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_map_plot_onto_its_own_results_is_refused(finished_map, capsys, link):
    before = finished_map.read_bytes()
    plot = finished_map.with_name("picture.png")
    (plot.symlink_to if link == "symlink" else lambda p: os.link(p, plot))(finished_map)
    _refused(capsys, [*MAP, "--out", str(finished_map), "--plot", str(plot)], "results file")
    assert finished_map.read_bytes() == before


def test_map_plot_and_out_naming_one_new_file_are_refused(tmp_path, capsys):
    both = tmp_path / "map.png"
    _refused(capsys, [*MAP, "--out", str(both), "--plot", str(both)], "are the same file")
    assert not both.exists()


def test_a_witness_never_overwrites_a_results_file(finished_map, capsys):
    before = finished_map.read_bytes()
    link = finished_map.with_name("witness.json")
    link.symlink_to(finished_map)
    for out in (finished_map, link):
        _refused(capsys, [*SEARCH, "--out", str(out)], "results file")
    assert finished_map.read_bytes() == before


def test_an_output_held_by_a_running_writer_is_refused(tmp_path, capsys):
    """A results file locked by a sweep in progress (held here by its Journal, as the sweep
    holds it) is no witness's output, even when it holds nothing yet."""
    out = tmp_path / "running.jsonl"
    with Journal(out, "abc") as journal:
        journal.resume(frozenset(), repair=False)
        before = out.read_bytes()
        _refused(capsys, [*SEARCH, "--out", str(out)], "being written")
        _refused(capsys, [*MAP, "--out", str(out)], "being written")
        assert out.read_bytes() == before


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/full", "fifo"])
def test_devices_and_pipes_are_no_outputs(tmp_path, capsys, device):
    target = tmp_path / "pipe" if device == "fifo" else Path(device)
    if device == "fifo":
        os.mkfifo(target)
    out = tmp_path / "out.jsonl"
    out.symlink_to(target)
    grid = tmp_path / "grid.toml"
    grid.write_text("[grid]\nsource = ['topic']\nobjective = ['ar']\nk = [1]\n")
    for argv in ([*MAP, "--out", str(out)], ["sweep", str(grid), "--out", str(out)],
                 [*SEARCH, "--out", str(out)]):  # fmt: skip
        _refused(capsys, argv, "not a regular file")


def test_reading_a_pipe_is_refused_not_blocked(tmp_path):
    fifo = tmp_path / "rows.jsonl"
    os.mkfifo(fifo)
    done: list[BaseException | None] = []
    reader = threading.Thread(target=lambda: done.append(_read_error(fifo)), daemon=True)
    reader.start()
    reader.join(10)
    assert done and isinstance(done[0], InputError), done


def _read_error(path: Path) -> BaseException | None:
    try:
        read_records(path)
    except BaseException as exc:  # the test inspects whatever was raised
        return exc
    return None


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--pretrain-out", "x.jsonl"], "--pretrain-out"),
        (["--pretrain-steps", "5"], "--pretrain-steps"),
        (["--jobs", "2"], "--jobs"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
        (["--repair"], "--repair"),
        (["--pretrain-seeds", "4"], "--pretrain-seeds"),
    ],
)
def test_check_refuses_pretrain_options_without_pretrain_before_any_work(
    capsys, monkeypatch, extra, flag
):
    import lookaround.simulations.robust as robust

    def no_work(*args, **kwargs):
        raise AssertionError("the claim table started before the options were checked")

    monkeypatch.setattr(robust, "check", no_work)
    _refused(capsys, ["check", "--sources", "markov", *extra], f"{flag} only applies")


def test_an_empty_plot_name_is_refused(tmp_path, capsys):
    _refused(capsys, [*MAP, "--out", str(tmp_path / "m.jsonl"), "--plot", ""], "must name a file")
