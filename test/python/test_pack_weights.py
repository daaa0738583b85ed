"""sunway-pack-weights on whole models: weights stored tile-major, results unchanged (onnxruntime)."""
import re

import numpy as np
import pytest
from mlir import ir
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.cli import onnxruntime_outputs
from swmlir.compiler import lower_to_stage
from swmlir.passes.pack_weights import known_divisor


def _matmul(m, k, n):
    w = np.random.default_rng(0).standard_normal((k, n)).astype(np.float32)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
                          [numpy_helper.from_array(w, "w")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _constant_types(model, schedule="model"):
    ctx, module, _ = lower_to_stage(model, "schedule", schedule=schedule)
    with ctx:
        return set(re.findall(r"arith.constant dense_resource<[^>]*> : tensor<([^>]*)>", str(module)))


@pytest.mark.parametrize("shape", [(32, 256, 256), (64, 256, 1024)])
def test_matmul_weights_tile_major_and_exact(shape):
    m, k, n = shape
    model = _matmul(m, k, n)
    types = _constant_types(model)
    assert types and all(t.count("x") == 4 for t in types), types     # [K/tk, N/tn, tk, tn]
    tiles = [int(d) for d in next(iter(types)).split("x")[:4]]
    assert tiles[0] * tiles[2] == k and tiles[1] * tiles[3] == n
    assert _constant_types(model, schedule="baseline") == {f"{k}x{n}xf32"}    # baseline: left as it is
    x = np.random.default_rng(1).standard_normal((m, k)).astype(np.float32)
    got = swmlir.compile(model).run({"x": x})[0]
    np.testing.assert_allclose(got, onnxruntime_outputs(model, {"x": x})[0], rtol=1e-4, atol=1e-4)


def test_known_divisor():
    ctx = ir.Context()
    with ctx, ir.Location.unknown():
        module = ir.Module.parse("""
          func.func @f(%i: index) -> (index, index, index, index) {
            %c0 = arith.constant 0 : index
            %c6 = arith.constant 6 : index
            %c12 = arith.constant 12 : index
            %a = affine.apply affine_map<(d0) -> (d0 * 4 + 8)>(%i)
            %r:2 = scf.for %k = %c6 to %c12 step %c6 iter_args(%x = %c0, %y = %c0) -> (index, index) {
              %s = arith.addi %k, %a : index
              %p = arith.muli %k, %c6 : index
              scf.yield %s, %p : index, index
            }
            return %a, %r#0, %r#1, %i : index, index, index, index
          }""")
        f = module.body.operations[0]
        ops = list(f.regions[0].blocks[0].operations)
        apply_ = next(o for o in ops if o.operation.name == "affine.apply")
        loop = next(o for o in ops if o.operation.name == "scf.for")
        body = list(loop.regions[0].blocks[0].operations)
        assert known_divisor(apply_.results[0]) == 4                     # 4 i + 8
        assert known_divisor(loop.regions[0].blocks[0].arguments[0]) == 6  # 6, 12, .. (lb 6, step 6)
        assert known_divisor(body[0].results[0]) == 2                     # k + (4 i + 8): gcd(6, 4)
        assert known_divisor(body[1].results[0]) == 36                    # k * 6
        assert known_divisor(f.regions[0].blocks[0].arguments[0]) == 1   # a function argument: unknown
        assert known_divisor(ops[0].results[0]) == 0                      # the constant 0
