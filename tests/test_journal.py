"""The results file under hostile use: links, second writers, torn writes, corrupt headers,
repairs through links, and worker processes outliving a killed sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lookaround.base.errors import InputError
from lookaround.simulations.engine import config_hash
from lookaround.simulations.journal import Journal

HEADER = {"grid": "test"}
HASH = config_hash(HEADER)


def _filled(path: Path, rows: int = 3) -> None:
    with Journal(path, HASH, HEADER) as journal:
        journal.resume(frozenset(), repair=False)
        for j in range(rows):
            journal.append({"hash": f"h{j}", "value": j})


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_a_second_writer_through_a_link_is_refused(tmp_path, link):
    path, other = tmp_path / "rows.jsonl", tmp_path / "other.jsonl"
    _filled(path)
    (os.symlink if link == "symlink" else os.link)(path, other)
    with Journal(path, HASH, HEADER):
        with pytest.raises(InputError, match="being written by another sweep"):
            Journal(other, HASH, HEADER)
    with Journal(other, HASH, HEADER) as journal:  # free again once the first is closed
        assert journal.resume(frozenset(), repair=False).done == {"h0", "h1", "h2"}
    assert not list(tmp_path.glob("*.lock"))  # no lock file left behind


def test_a_partial_last_line_is_quarantined_not_dropped(tmp_path):
    path = tmp_path / "rows.jsonl"
    _filled(path)
    with open(path, "ab") as handle:
        handle.write(b'{"hash": "h3", "val')  # a write cut by a kill
    with Journal(path, HASH, HEADER) as journal:
        resumed = journal.resume(frozenset(), repair=False)
    assert resumed.done == {"h0", "h1", "h2"} and resumed.quarantined == 1
    assert Path(f"{path}.corrupt").read_bytes() == b'{"hash": "h3", "val\n'
    assert path.read_bytes().endswith(b"\n") and len(path.read_text().splitlines()) == 4


def test_repair_through_a_symlink_repairs_the_target_and_keeps_the_link(tmp_path):
    path, link = tmp_path / "rows.jsonl", tmp_path / "link.jsonl"
    _filled(path)
    with open(path, "ab") as handle:
        handle.write(b"not json\n")
    link.symlink_to(path)
    with Journal(link, HASH, HEADER) as journal:
        with pytest.raises(InputError, match=r"rows.jsonl:5 is corrupt"):
            journal.resume(frozenset(), repair=False)
        resumed = journal.resume(frozenset(), repair=True)
    assert link.is_symlink() and resumed.quarantined == 1
    assert b"not json" not in path.read_bytes() and len(path.read_text().splitlines()) == 4
    assert not Path(f"{path}.repair").exists()


def test_repair_writes_a_corrupt_header_again_when_the_rows_are_the_requests(tmp_path):
    path = tmp_path / "rows.jsonl"
    _filled(path)
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([b"garbage", *lines[1:]]))
    with Journal(path, HASH, HEADER) as journal:
        with pytest.raises(InputError, match="--repair, writes it again"):
            journal.resume(frozenset({"h0", "h1", "h2"}), repair=False)
    with Journal(path, HASH, HEADER) as journal:
        resumed = journal.resume(frozenset({"h0", "h1"}), repair=True)
    assert resumed.header_rewritten and resumed.done == {"h0", "h1"}  # h2 is not the request's
    assert json.loads(path.read_text().splitlines()[0])["grid_hash"] == HASH
    assert Path(f"{path}.corrupt").read_bytes().startswith(b"garbage\n")
    with Journal(path, "another", HEADER) as journal, pytest.raises(InputError, match="another"):
        journal.resume(frozenset(), repair=True)  # a readable header of another request stays


def test_an_interrupted_repair_is_finished_by_the_next_run(tmp_path):
    path = tmp_path / "rows.jsonl"
    _filled(path)
    good = path.read_bytes()
    Path(f"{path}.repair").write_bytes(good)  # staged completely, then the process died
    path.write_bytes(good[: len(good) // 2])  # while the file was being rewritten
    with Journal(path, HASH, HEADER) as journal:
        assert journal.resume(frozenset(), repair=False).done == {"h0", "h1", "h2"}
    assert path.read_bytes() == good and not Path(f"{path}.repair").exists()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_die_with_a_killed_map(tmp_path):
    # SIGKILL: no handler of the map's can run; SIGTERM's default ends it the same way
    out = tmp_path / "map.jsonl"
    argv = [sys.executable, "-m", "lookaround", "map", "markov2(T=7,V=4)", "--x",
            "stick=0:1:100", "--y", "overlap=0:0.5:50", "--claim", "C2", "--metric", "s_k1",
            "--out", str(out), "--jobs", "2"]  # fmt: skip
    parent = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(1200):  # until rows arrive: the workers have run
            if out.exists() and len(out.read_bytes().splitlines()) > 3:
                break
            time.sleep(0.05)
        workers = _children(parent.pid)
        assert workers, "the map started no worker processes"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    alive = [w for w in workers if Path(f"/proc/{w}").exists()]
    for pid in alive:  # leave nothing behind whatever the outcome
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"{len(alive)} of {len(workers)} workers outlived the map"
