"""Output tiles of a mesh row regrouped into whole rows before the put (passes/gather_put_rows.py): results
unchanged (onnxruntime) through the emitted C and the LLVM IR, puts in longer blocks (the emulator's counters),
and the performance model charging the register communication."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.bench import bench
from swmlir.cli import onnxruntime_outputs
from swmlir.sim.constants import cpe_constants
from swmlir.sim.mix import gather_rows_cycles
from swmlir.targets import get_target


def _matmul(m, k, n, bias=False):
    rng = np.random.default_rng(3)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32) * 0.1, "w")
    inits = [w]
    if bias:
        inits.append(numpy_helper.from_array(rng.standard_normal(n).astype(np.float32), "b"))
        node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="g0")
    else:
        node = helper.make_node("MatMul", ["x", "w"], ["y"], name="m0")
    g = helper.make_graph([node], "g", [x], [y], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


@pytest.mark.parametrize("m,k,n,bias", [(512, 512, 512, False), (256, 384, 512, True), (512, 256, 256, False)])
def test_gathered_puts_match_onnxruntime(m, k, n, bias):
    model = _matmul(m, k, n, bias)
    compiled = swmlir.compile(model)
    assert "swmlir_mesh_gather_rows" in compiled.files["model_slave.c"]
    x = np.random.default_rng(0).standard_normal((m, k)).astype(np.float32)
    np.testing.assert_allclose(compiled.run({"x": x})[0], onnxruntime_outputs(model, {"x": x})[0],
                               rtol=1e-4, atol=1e-3)


def test_gathered_puts_through_llvm_ir():
    model = _matmul(512, 256, 512)
    compiled = swmlir.compile(model, llvm=True)
    assert "swmlir_llvm_mesh_gather_rows" in compiled.files["model_slave.ll"]
    x = np.random.default_rng(0).standard_normal((512, 256)).astype(np.float32)
    np.testing.assert_allclose(compiled.run({"x": x}, via="llvm")[0], onnxruntime_outputs(model, {"x": x})[0],
                               rtol=1e-4, atol=1e-3)


def test_puts_are_whole_rows_and_faster(tmp_path):
    """512x512: each CPE puts 8 rows of 2 KB in strips (one contiguous block each) instead of 64 blocks of 256
    bytes; the model's kernel time falls although the register communication is charged."""
    path = tmp_path / "mm.onnx"
    onnx.save(_matmul(512, 512, 512), path)
    k = bench(str(path), target="sw26010", repeat=1)["kernels"][0]
    assert min(int(b) for b in k["put_block_sizes"]) >= 4096
    assert k["put_bytes"] == 512 * 512 * 4
    base = bench(str(path), target="sw26010", repeat=1, schedule="baseline")["kernels"][0]
    assert max(int(b) for b in base["put_block_sizes"]) < 4096
    assert k["mix"]["mesh_cycles"] > 0


def test_gather_rows_cost_by_hand():
    """4 strip rows of 8 x 256 bytes: 49 x 4 x 256 = 50,176 bytes received (7 roots x the rows of 7 receivers),
    at 637 GB/s / 64 CPEs = 6.865 bytes per cycle (1.45 GHz): 7,309 cycles, more than the P1 slots (7 x 32 sends
    x 3 + 32 x 4 own copies + 7 x (224 getr + 32 x 2 stores) = 2,816), plus 8 turns x 11 cycles of latency."""
    c = cpe_constants(get_target("sw26010"))
    cycles, received = gather_rows_cycles(4, 256, c)
    assert received == 50176
    assert cycles == pytest.approx(50176 / (637e9 / 64 / 1.45e9) + 88, rel=1e-6)
