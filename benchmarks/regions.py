"""Goals of "where each claim holds", measured on this machine (not a timed test).

1. The robust claim table on the six default sources (`lookaround check`), and its exact part.
2. A 30 x 30 exact map at V = 3, T = 6 with two jobs.
3. `search` for a C2 witness on the two-class markov family from five seeds: time, the shrunk
   shape, and `verify` of each written witness from its JSON alone.

Run: python benchmarks/regions.py  (about 6 minutes on 2 cores)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lookaround.simulations.claims import DEFAULT_SOURCES
from lookaround.simulations.robust import robust_rows
from lookaround.theory.presets import preset_source


def timed(argv: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    lookaround = [sys.executable, "-m", "lookaround"]
    start = time.perf_counter()
    rows = [r for name in DEFAULT_SOURCES for r in robust_rows(preset_source(name))]
    settings = sum(len(r.settings) for r in rows)
    print(f"robust exact rows: {len(rows)} rows, {settings} settings, "
          f"{time.perf_counter() - start:.1f} s")  # fmt: skip
    seconds, _ = timed([*lookaround, "check"])
    print(f"lookaround check (robust rows + trained rows): {seconds:.1f} s (goal 180 s)")
    seconds, out = timed([*lookaround, "map", "markov2(V=3,T=6)", "--x", "stick=0:1:30", "--y",
                          "overlap=0:0.5:30", "--claim", "C2", "--metric", "s_k1", "--k", "1",
                          "--jobs", "2", "--out", str(folder / "map.jsonl")])  # fmt: skip
    print(f"30 x 30 map, V=3 T=6, --jobs 2: {seconds:.1f} s (goal 120 s); " + out.splitlines()[1])
    for seed in range(5):
        witness = folder / f"w{seed}.json"
        seconds, _ = timed([*lookaround, "search", "--claim", "C2", "--metric", "s_k1",
                            "--family", "markov2", "--seed", str(seed), "--evaluations", "1000",
                            "--out", str(witness)])  # fmt: skip
        record = json.loads(witness.read_text())
        check, _ = timed([*lookaround, "verify", str(witness)])
        print(
            f"search seed {seed}: {seconds:.1f} s (goal 60 s), shrunk to r=2 "
            f"{record['search']['shrunk']}, steps 1/{record['search']['denominator']}, "
            f"margin {record['certificate']['margin'][:10]}, verify {check:.1f} s: ok"
        )


if __name__ == "__main__":
    main()
