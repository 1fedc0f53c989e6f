"""The chain path (the token is the state) against the general recurrence, entry by entry."""

from __future__ import annotations

import numpy as np
import pytest
from strategies import random_spec

from lookaround.theory.chains import chain_joints, chain_pays
from lookaround.theory.objectives import parse_objective
from lookaround.theory.recurrence import stacked_joints
from lookaround.theory.sources import source_from_dict


def _entries(joints) -> dict[tuple[int, int], np.ndarray]:
    """``(mask, context index) -> P(z, x_i = ., x_S)`` over every yielded stack."""
    out = {}
    for masks, offset, joint in joints:
        for g, mask in enumerate(masks):
            for n in range(joint.shape[3]):
                out[int(mask), offset + n] = joint[:, :, g, n]
    return out


@pytest.mark.parametrize("family", ["markov", "graph_walk"])
@pytest.mark.parametrize("spec", ["ar", "mlm:2", "dar:2", "prefixlm", "span:2"])
@pytest.mark.parametrize("chunk", [10**6, 40])  # 40 floats: every product is split
def test_chain_joints_equal_the_recurrence(family, spec, chunk):
    source = source_from_dict(random_spec(family, r=2, V=3, H=3, T=5, seed=7, sparsity=0.3))
    assert source.emits_state
    for target, (_, masks) in parse_objective(spec, 5).by_target().items():
        fast = _entries(chain_joints(source, target, masks, chunk=chunk))
        slow = _entries(stacked_joints(source, target, masks, chunk=10**6))
        assert fast.keys() == slow.keys()
        worst = max(float(np.max(np.abs(fast[key] - slow[key]))) for key in slow)
        assert worst < 1e-15


def test_chain_path_is_taken_only_where_it_applies_and_pays():
    markov, small, hmm = (
        source_from_dict(random_spec(family, r=2, V=V, H=V, T=9, seed=1, sparsity=0.0))
        for family, V in (("markov", 8), ("markov", 6), ("hmm", 8))
    )
    few = parse_objective("mlm:2", 9).by_target()[4][1]  # 7 sets of the target
    many = parse_objective("vmlm", 9).by_target()[4][1]  # 2^8 sets
    assert chain_pays(markov, few) and not chain_pays(markov, many)
    assert not chain_pays(hmm, few) and not chain_pays(small, few)
