"""ONNX's own node test cases (generated in memory by the onnx package) for every supported op.

Each case whose nodes all have converters must either match ONNX's expected outputs, or be refused with the
reason listed in REFUSED (a known, deliberate limitation). A case that fails otherwise is an importer bug.
Runs through `check_against_onnxruntime`'s runner selection (SWMLIR_TEST_PATH), minus onnxruntime: the
expected outputs come with the case.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from swmlir.errors import ImportError_
from swmlir.frontend.onnx import supported_ops
from swmlir.testing.compare import default_runner


def _cases():
    from onnx.backend.test.case.node import collect_testcases

    ops = {op for op, _ in supported_ops()}
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
        if refusal is not None:
            with pytest.raises(ImportError_, match=re.escape(refusal)):
                runner(model, list(inputs))
            return
        got = runner(model, list(inputs))
        names = [o.name for o in model.graph.output]
        assert len(got) == len(expected)
        for name, g, w in zip(names, got, expected):
            w = np.asarray(w)
            assert np.shape(g) == w.shape, f"output '{name}'"
            np.testing.assert_allclose(np.asarray(g).astype(w.dtype) if w.dtype.kind in "iub" else g, w,
                                       rtol=max(case.rtol, 1e-4), atol=max(case.atol, 1e-6), err_msg=name)
