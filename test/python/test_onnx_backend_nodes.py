"""ONNX's own node test cases (generated in memory by the onnx package) for the importer's core ops.

Each case whose nodes are all core ops must match ONNX's expected outputs, or be refused (ImportError_) with
the reason listed in REFUSED for it (a known, deliberate limitation; a listed case that starts to work is
fine). Anything else is an importer bug. Runs through the runner that SWMLIR_TEST_PATH selects (see
swmlir.testing.compare); the expected outputs come with the case, not from onnxruntime.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from swmlir.errors import ImportError_
from swmlir.testing.compare import default_runner

CORE_OPS = {"Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "MaxPool", "AveragePool",
            "GlobalAveragePool", "Flatten", "Reshape", "Softmax", "Constant", "Identity", "Dropout"}


def _cases():
    from onnx.backend.test.case.node import collect_testcases

    ops = CORE_OPS
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        cases = collect_testcases(None)
    return sorted((c for c in cases if c.model.graph.node and all(n.op_type in ops and n.domain in ("", "ai.onnx")
                                                                   for n in c.model.graph.node)),
                  key=lambda c: c.name)


CASES = _cases()

# name pattern -> words the refusal must contain
REFUSED = {
    r"^test_(average|max)pool_(1d|3d)_": "only 2-D pooling",
    r"^test_div_u?int": "not supported",
    r"^test_training_dropout": "training_mode",
    r"^test_identity_(sequence|opt)$": "not a tensor",
    r"^test_maxpool_2d_uint8$": "floating-point",
    r"^test_maxpool_with_argmax_": "Indices",
    r"^test_reshape_(reordered|reduced|extended|one|negative|zero)": "must be a constant",
    r"^test_reshape_allowzero_reordered$": "dims must be positive",  # a zero-size input
}


def _refusal(name):
    for pattern, words in REFUSED.items():
        if re.search(pattern, name):
            return words
    return None


@pytest.mark.filterwarnings("ignore::swmlir.frontend.onnx.ShapeMismatchWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_node_case(case):
    model = case.model
    runner = default_runner()
    refusal = _refusal(case.name)
    for inputs, expected in case.data_sets:
        try:
            got = runner(model, list(inputs))
        except ImportError_ as e:
            assert refusal is not None, f"unexpected refusal: {e}"
            assert refusal in str(e), f"refused for another reason than '{refusal}': {e}"
            return
        names = [o.name for o in model.graph.output]
        assert len(got) == len(expected)
        for name, g, w in zip(names, got, expected):
            w = np.asarray(w)
            assert np.shape(g) == w.shape, f"output '{name}'"
            np.testing.assert_allclose(np.asarray(g).astype(w.dtype) if w.dtype.kind in "iub" else g, w,
                                       rtol=max(case.rtol, 1e-4), atol=max(case.atol, 1e-6), err_msg=name)
