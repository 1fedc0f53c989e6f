"""The weighted least-squares probe on a network's float32 states (simulations/probes.py)."""

from __future__ import annotations

import numpy as np
import pytest

from lookaround.simulations.probes import STATES_RCOND, weighted_probe_error


def _layer_normed_states(seed: int, n: int = 243, width: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """States as a transformer's last LayerNorm leaves them (each row centred and scaled, then
    an affine map), rounded to float32, and a class joint they carry a little of."""
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((n, width))
    centred = raw - raw.mean(axis=1, keepdims=True)
    centred /= centred.std(axis=1, keepdims=True)
    states = (centred * rng.uniform(0.5, 1.5, width) + rng.normal(0, 0.1, width)).astype(np.float32)
    score = raw[:, :3] @ rng.standard_normal(3)
    first = 1 / (1 + np.exp(-score))
    mass = rng.dirichlet(np.ones(n))
    return states.astype(float), mass[:, None] * np.stack([first, 1 - first], axis=1)


@pytest.mark.parametrize("seed", range(4))
def test_the_states_probe_does_not_read_their_rounding(seed):
    states, joint = _layer_normed_states(seed)
    design = (
        np.hstack([states, np.ones((states.shape[0], 1))]) * np.sqrt(joint.sum(axis=1))[:, None]
    )
    singular = np.linalg.svd(design, compute_uv=False)
    # LayerNorm's constraint: one direction of the design (with the intercept) is rounding alone
    assert singular[-1] < STATES_RCOND * singular[0] < singular[-2]
    error = weighted_probe_error(states, joint, intercept=True, rcond=STATES_RCOND)
    rng = np.random.default_rng(100 + seed)
    for _ in range(5):  # a perturbation at float32's precision, as another JAX build gives
        moved = states * (1 + 1e-7 * rng.standard_normal(states.shape))
        assert weighted_probe_error(moved, joint, intercept=True, rcond=STATES_RCOND) == error


def test_the_cutoff_keeps_every_direction_of_signal():
    """Below the cutoff is rounding only: on well-conditioned features the probe is the
    exact least-squares one."""
    rng = np.random.default_rng(0)
    features = rng.standard_normal((200, 5))
    joint = rng.dirichlet(np.ones(2), size=200) * rng.dirichlet(np.ones(200))[:, None]
    assert weighted_probe_error(features, joint, intercept=True, rcond=STATES_RCOND) == (
        weighted_probe_error(features, joint, intercept=True)
    )
