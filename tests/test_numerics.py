"""The shared numerical operations against their plain numpy definitions."""

from __future__ import annotations

import numpy as np
import pytest

from lookaround.theory.numerics import TALL_PRODUCT_DOTS, tall_product


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize(("p", "q"), [(1, 1), (2, 2), (3, 5), (6, 4), (6, 6), (7, 7), (12, 2)])
def test_tall_product_is_the_product(order, p, q):
    # both sides of the switch from column dot products to gemm
    rng = np.random.default_rng(p * 10 + q)
    left = np.asarray(rng.random((1000, p)), order=order)
    right = np.asarray(rng.random((1000, q)), order=order)
    np.testing.assert_allclose(tall_product(left, right), left.T @ right, rtol=1e-13)
    gram = tall_product(left)
    np.testing.assert_allclose(gram, left.T @ left, rtol=1e-13)
    assert np.array_equal(gram, gram.T)


def test_the_switch_lies_between_the_shapes_tested():
    assert 2 * 2 <= TALL_PRODUCT_DOTS < 7 * 8 // 2
