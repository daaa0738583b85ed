"""Compare a compiled model with onnxruntime, through a runner chosen by the environment.

`SWMLIR_TEST_PATH` selects how our side runs:
  jit     import_onnx + the upstream-LLVM reference JIT (swmlir.testing.jit.run_linalg)
  sunway  (default) swmlir.compile(model).run(inputs): the full pipeline, emitted C on the host emulator
"""
from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np
import onnx

Runner = Callable[[onnx.ModelProto, Sequence[np.ndarray]], list[np.ndarray]]

PATH_ENV = "SWMLIR_TEST_PATH"


def graph_inputs(model: onnx.ModelProto) -> list[str]:
    """Names of the graph inputs that are not initializers, in order."""
    inits = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]


def jit_runner(model: onnx.ModelProto, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    from mlir import ir

    from ..frontend.onnx import import_onnx
    from .jit import run_linalg

    shapes = {n: list(np.shape(x)) for n, x in zip(graph_inputs(model), inputs)}
    with ir.Context():
        module, _ = import_onnx(model, input_shapes=shapes)
        return run_linalg(module, list(inputs))


def sunway_runner(model: onnx.ModelProto, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    import swmlir

    return list(swmlir.compile(model).run(list(inputs)))


RUNNERS: dict[str, Runner] = {"jit": jit_runner, "sunway": sunway_runner}


def default_runner() -> Runner:
    path = os.environ.get(PATH_ENV, "sunway")
    if path not in RUNNERS:
        raise ValueError(f"{PATH_ENV}={path!r}: expected one of {sorted(RUNNERS)}")
    return RUNNERS[path]


def run_onnxruntime(model: onnx.ModelProto, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, inputs)


def check_against_onnxruntime(model: onnx.ModelProto, inputs: dict[str, np.ndarray], *,
                              runner: Runner | None = None, rtol: float = 1e-4, atol: float = 1e-5) -> list[np.ndarray]:
    """Run `model` with onnxruntime and with `runner` (default: chosen by SWMLIR_TEST_PATH) and assert that every
    output has the same shape and matches within rtol/atol. Returns our outputs."""
    names = graph_inputs(model)
    missing = [n for n in names if n not in inputs]
    if missing:
        raise ValueError(f"no data for graph inputs {missing}")
    expected = run_onnxruntime(model, {n: inputs[n] for n in names})
    ours = (runner or default_runner())(model, [inputs[n] for n in names])
    out_names = [o.name for o in model.graph.output]
    assert len(ours) == len(expected), f"{len(ours)} outputs, onnxruntime gives {len(expected)}"
    for name, got, want in zip(out_names, ours, expected):
        got, want = np.asarray(got), np.asarray(want)
        assert got.shape == want.shape, f"output '{name}': shape {got.shape}, onnxruntime gives {want.shape}"
        if want.dtype.kind in "iub" and got.dtype != want.dtype and got.dtype.itemsize == want.dtype.itemsize:
            got = got.view(want.dtype)  # signless integers come back signed
        assert got.dtype == want.dtype, f"output '{name}': dtype {got.dtype}, onnxruntime gives {want.dtype}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"output '{name}'")
    return ours


_U8S8_EXACT: bool | None = None


def onnxruntime_u8s8_exact() -> bool:
    """Whether onnxruntime's uint8 x int8 MatMulInteger is exact on this CPU. On x86 without VNNI its kernels
    add pairs of u8*s8 products in int16 with saturation (vpmaddubsw), so 255*127 + 255*127 gives 32767: tests
    whose reference is onnxruntime on such products can then not tell our exact result from its saturated one."""
    global _U8S8_EXACT
    if _U8S8_EXACT is None:
        import onnxruntime as ort
        from onnx import TensorProto, helper
        g = helper.make_graph([helper.make_node("MatMulInteger", ["a", "b"], ["y"])], "probe",
                              [helper.make_tensor_value_info("a", TensorProto.UINT8, [1, 2]),
                               helper.make_tensor_value_info("b", TensorProto.INT8, [2, 1])],
                              [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 1])])
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 10)])
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        y = sess.run(None, {"a": np.full((1, 2), 255, np.uint8), "b": np.full((2, 1), 127, np.int8)})[0]
        _U8S8_EXACT = int(y.reshape(-1)[0]) == 2 * 255 * 127
    return _U8S8_EXACT
