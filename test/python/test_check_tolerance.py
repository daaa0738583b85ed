"""`swmlir run --check`: the absolute tolerance scales with the output's magnitude (float outputs only)."""
import numpy as np

from swmlir.cli import _scaled_atol


def test_atol_scales_with_the_largest_magnitude():
    assert _scaled_atol(1e-5, np.array([0.5, -142.0], np.float32)) == 1e-5 * 142.0


def test_small_outputs_keep_the_given_atol():
    assert _scaled_atol(1e-5, np.array([0.25, -0.5], np.float32)) == 1e-5


def test_integers_and_non_finite_values():
    assert _scaled_atol(0.0, np.array([1000], np.int64)) == 0.0
    assert np.isclose(_scaled_atol(1e-5, np.array([np.inf, 3.0], np.float32)), 3e-5)
    assert _scaled_atol(1e-5, np.array([], np.float32)) == 1e-5
