"""The LLVM IR output (swmlir.llvmir, `--emit llvm`): model_host.ll and model_slave.ll from the same split modules
as the C, built with the wheels' llc against the host emulator and matched with onnxruntime (rtol 1e-4,
atol 1e-5), with the same DMA requests as the C build."""
import json
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir import llvmir
from swmlir.cli import main as cli_main
from swmlir.cli import onnxruntime_outputs

RTOL, ATOL = 1e-4, 1e-5


def conv_model() -> onnx.ModelProto:
    """Conv 3x3 (padding 1, bias) + Relu, then a strided 1x1 Conv: two kernels and an intermediate."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    b1 = rng.standard_normal(8).astype(np.float32)
    w2 = rng.standard_normal((6, 8, 1, 1)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1], name="conv1"),
         helper.make_node("Relu", ["c"], ["r"], name="relu1"),
         helper.make_node("Conv", ["r", "w2"], ["y"], strides=[2, 2], name="conv2")],
        "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 8, 8])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"), numpy_helper.from_array(w2, "w2")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def matmul_model() -> onnx.ModelProto:
    """MatMul + bias + Tanh (a libm call in the kernels): x[32, 48] @ w[48, 40] + b."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal((48, 40)).astype(np.float32)
    b = rng.standard_normal(40).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"), helper.make_node("Add", ["m", "b"], ["a"]),
         helper.make_node("Tanh", ["a"], ["y"])],
        "matmul", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [32, 48])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [32, 40])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


MODELS = {"conv": (conv_model, (1, 4, 16, 16)), "matmul": (matmul_model, (32, 48))}


def _feeds(shape, seed=0):
    return {"x": np.random.default_rng(seed).standard_normal(shape).astype(np.float32)}


@pytest.fixture(scope="module", params=sorted(MODELS))
def compiled(request):
    make, shape = MODELS[request.param]
    model = make()
    m = swmlir.compile(model, llvm=True)
    yield request.param, model, shape, m
    m.close()


def test_llvm_build_matches_onnxruntime(compiled):
    name, model, shape, m = compiled
    feeds = _feeds(shape)
    got = m.run(feeds, via="llvm")
    ref = onnxruntime_outputs(model, feeds)
    assert len(got) == len(ref) == 1
    for g, r in zip(got, ref):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=RTOL, atol=ATOL)
    assert m._llvm_exe and m._llvm_exe.endswith("model_llvm")


def test_ll_files_parse_with_llvm_as_and_call_the_athread_api(compiled, tmp_path):
    name, model, shape, m = compiled
    host, slave = m.files[llvmir.HOST_LL], m.files[llvmir.SLAVE_LL]
    for fname, text in ((llvmir.HOST_LL, host), (llvmir.SLAVE_LL, slave)):
        p = tmp_path / fname
        p.write_text(text)
        proc = subprocess.run([llvmir.tool("llvm-as"), str(p), "-o", str(tmp_path / (fname + ".bc"))],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    for decl in ("declare i32 @athread_get(i32, ptr, ptr, i32, ptr, i8, i32, i32)",
                 "declare i32 @athread_put(i32, ptr, ptr, i32, ptr, i32, i32)", "declare i32 @athread_get_id(i32)"):
        assert decl in slave
    for decl in ("declare i32 @athread_init()", "declare i32 @__real_athread_spawn(ptr, ptr)",
                 "declare i32 @athread_join()", "declare i32 @athread_halt()"):
        assert decl in host
    for k, n_args in m.kernels:   # every kernel has its entry, and the host starts each one
        assert f"define void @slave_{k}(ptr " in slave
        assert f"call i32 @__real_athread_spawn(ptr @slave_{k}, " in host
    assert "<4 x float>" in slave   # the micro-kernels' SIMD: LLVM vectors
    if name == "matmul":
        assert "@tanhf" in slave or "@llvm.tanh" in slave
    # the C package is unchanged beside it, and the helpers travel with the runtime
    assert "athread_spawn" in m.files["model_host.c"]
    assert {"runtime/swmlir_llvm_slave.c", "runtime/swmlir_llvm_emulator.c"} <= set(m.files)
    assert "## LLVM IR" in m.files["README.md"]


def test_llvm_and_c_builds_make_the_same_dma_requests(compiled, tmp_path):
    """Both outputs come from the same sunway IR: the emulator counts the same requests and bytes per launch."""
    name, model, shape, m = compiled
    feeds = _feeds(shape, seed=3)
    stats = {}
    outs = {}
    for via in ("c", "llvm"):
        path = tmp_path / f"{via}.json"
        outs[via] = m.run(feeds, via=via, stats_json=str(path))
        stats[via] = json.loads(path.read_text())
    np.testing.assert_allclose(outs["llvm"][0], outs["c"][0], rtol=RTOL, atol=ATOL)
    keys = ("kernel", "get_requests", "put_requests", "get_bytes", "put_bytes", "block_sizes", "active_cpes")
    launches = {via: [{k: l[k] for k in keys} for l in s["launches"]] for via, s in stats.items()}
    assert launches["llvm"] == launches["c"]
    assert len(launches["llvm"]) == len(m.kernels)
    assert all(l["ldm_peak_bytes"] <= m.target.ldm_bytes for l in stats["llvm"]["launches"])
    assert stats["llvm"]["totals"]["gld_requests"] == 0 and stats["llvm"]["direct_access"] == "guarded"


def test_cli_emit_llvm_and_run_via_llvm(tmp_path, capsys):
    path = tmp_path / "mm.onnx"
    onnx.save(matmul_model(), str(path))
    assert cli_main(["compile", str(path), "--emit", "llvm"]) == 0
    text = capsys.readouterr().out
    assert f"; ===== {llvmir.HOST_LL} =====" in text and f"; ===== {llvmir.SLAVE_LL} =====" in text
    assert "define i32 @swmlir_init(ptr" in text
    out = tmp_path / "pkg"
    assert cli_main(["compile", str(path), "--emit", "llvm", "-o", str(out)]) == 0
    for f in (llvmir.HOST_LL, llvmir.SLAVE_LL, "model_host.c", "model_slave.c", "model.h", "model.weights.bin"):
        assert (out / f).is_file()
    capsys.readouterr()
    assert cli_main(["run", str(path), "--via", "llvm", "--check"]) == 0
    text = capsys.readouterr().out
    assert "ran the LLVM IR output" in text and "OK" in text and "MISMATCH" not in text


def test_run_via_llvm_needs_the_llvm_output():
    m = swmlir.compile(matmul_model())
    with m, pytest.raises(swmlir.CompileError, match="llvm=True"):
        m.run(_feeds((32, 48)), via="llvm")


@pytest.mark.parametrize("name", ["lenet", "mlp", "transformer"])
def test_networks_of_the_end_to_end_tests_through_llvm(name):
    """The networks test_end_to_end runs through the C path, through the LLVM IR (softmax, layer norm and GELU
    of the transformer block: libm calls and LLVM intrinsics in the kernels)."""
    from swmlir.testing import networks
    model = {"lenet": lambda: networks.lenet(batch=2), "mlp": lambda: networks.mlp(batch=3, sizes=(37, 19, 5)),
             "transformer": lambda: networks.transformer_encoder(seq=16, hidden=32, heads=2, ffn=64)}[name]()
    with swmlir.compile(model, llvm=True) as m:
        rng = np.random.default_rng(5)
        feeds = {t.name: rng.standard_normal(t.shape).astype(t.dtype) for t in m.info.inputs}
        got = m.run(feeds, via="llvm")
        for g, r in zip(got, onnxruntime_outputs(model, feeds)):
            np.testing.assert_allclose(g, r, rtol=RTOL, atol=ATOL)
