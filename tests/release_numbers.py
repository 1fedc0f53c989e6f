"""The exact analysis's numbers as the release before the factored passes gave them.

Issue 30 replaced the context passes (blankets, hidden states, windows, the pattern table built
only when read). ``tests/data/release_numbers.json`` holds what ``analyze`` returned, at both
levels, on the presets and on random sources sized so that every path is taken, at commit
``49ab77b`` (the last before the factored passes); ``tests/test_release_numbers.py`` asks today's
``analyze`` for the same numbers. To write the file again, from a checkout of that commit::

    git worktree add /tmp/release 49ab77b
    python tests/release_numbers.py /tmp/release
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from strategies import OBJECTIVES, min_length, random_spec

DATA = Path(__file__).parent / "data" / "release_numbers.json"

# ginc (V = 50, T = 32) and markov20 (V = 20, T = 16) are past enumeration at every objective
PRESETS = ("topic", "positional", "markov", "sbm-walk", "hmm", "disjoint", "mess3")
RANDOM_OBJECTIVES = ("ar", "ar:last", "dar:2", "mlm:2", "vmlm", "prefixlm", "span:2", "plm", "aas")
# (family, r, V, H, T, seed, sparsity): chains long enough for the blanket path, HMMs with
# 2 r H <= V for the hidden-state path (iid and positional sources among them, one state a
# class), and one HMM where neither pays
RANDOM_SOURCES = (
    ("markov", 2, 3, 3, 8, 11, 0.0),
    ("markov", 3, 4, 4, 6, 12, 0.3),
    ("markov", 2, 5, 5, 6, 17, 0.3),
    ("graph_walk", 2, 4, 4, 7, 13, 0.0),
    ("graph_walk", 2, 6, 6, 6, 18, 0.0),
    ("hmm", 1, 4, 2, 7, 14, 0.0),
    ("hmm", 2, 8, 2, 5, 15, 0.3),
    ("hmm", 2, 3, 2, 7, 16, 0.0),
    ("positional", 2, 4, 1, 8, 19, 0.0),
    ("iid", 2, 4, 1, 7, 20, 0.3),
)
K = 2


def cases() -> list[dict]:
    """Every (source, objective) the file holds; a source is a preset name or a JSON spec."""
    found: list[dict] = []
    for name in PRESETS:
        found += [{"source": name, "objective": spec, "k": K} for spec in OBJECTIVES]
    for family, r, vocab, states, length, seed, sparsity in RANDOM_SOURCES:
        spec = random_spec(family, r, vocab, states, length, seed, sparsity)
        found += [{"source": spec, "objective": name, "k": K} for name in RANDOM_OBJECTIVES]
    return found


def _in_domain(case: dict, length: int) -> bool:
    return min_length(case["objective"]) <= length


def write(root: Path) -> None:
    """Run every case on the checkout at ``root`` and write what it returns to ``DATA``."""
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, str(root))
    for name in [m for m in sys.modules if m.split(".")[0] == "lookaround"]:
        del sys.modules[name]  # strategies imported today's package
    from lookaround.theory.analysis import analyze
    from lookaround.theory.presets import preset_source
    from lookaround.theory.sources import source_from_dict

    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    rows = []
    for case in cases():
        spec = case["source"]
        source = preset_source(spec) if isinstance(spec, str) else source_from_dict(spec)
        if _in_domain(case, source.length):
            numbers = analyze(source, case["objective"], case["k"]).to_dict()
            rows.append({**case, "context": numbers["context"], "sample": numbers["sample"]})
    DATA.write_text(json.dumps({"commit": commit, "cases": rows}) + "\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]))
