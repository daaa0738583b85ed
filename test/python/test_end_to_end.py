"""End to end: ONNX -> Sunway C -> host emulator, matched with onnxruntime (rtol 1e-4, atol 1e-5)."""
import json
import os

import numpy as np
import pytest

import swmlir
from swmlir.cli import onnxruntime_outputs
from swmlir.testing.networks import lenet, mlp

RTOL, ATOL = 1e-4, 1e-5


def _check(model, feeds, target="sw26010", **kw):
    m = swmlir.compile(model, target, **kw)
    got = m.run(feeds)
    ref = onnxruntime_outputs(model, feeds)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=RTOL, atol=ATOL)
    return m


@pytest.mark.parametrize("batch", [1, 3])
def test_lenet(batch, tmp_path):
    x = np.random.default_rng(batch).standard_normal((batch, 1, 28, 28)).astype(np.float32)
    m = _check(lenet(batch=batch), {"x": x})
    stats = tmp_path / "stats.json"
    m.run({"x": x}, stats_json=str(stats))
    data = json.loads(stats.read_text())
    launches = data["launches"]
    assert len(launches) >= len(m.kernels)  # every kernel ran on the CPEs
    assert data["totals"]["get_bytes"] > 0 and data["totals"]["put_bytes"] > 0
    assert all(l["ldm_peak_bytes"] <= m.target.ldm_bytes for l in launches)
    assert data["direct_access"] == "guarded" and data["totals"]["gld_requests"] == 0


@pytest.mark.parametrize("sizes,batch", [((784, 256, 128, 10), 4), ((37, 19, 5), 1)])
def test_mlp(sizes, batch):
    x = np.random.default_rng(7).standard_normal((batch, sizes[0])).astype(np.float32)
    _check(mlp(batch=batch, sizes=sizes), {"x": x})


def test_lenet_on_sw26010pro():
    """SW26010-Pro's C calls CRTS (crts.h); matched with onnxruntime on the emulator's CRTS API."""
    x = np.random.default_rng(3).standard_normal((1, 1, 28, 28)).astype(np.float32)
    m = _check(lenet(), {"x": x}, target="sw26010pro")
    assert "CRTS_dma_iget" in m.files["model_slave.c"] and "athread_get" not in m.files["model_slave.c"]
    assert "CRTS_init();" in m.files["model_host.c"]


def test_saved_files_read_as_sunway_code(tmp_path):
    m = swmlir.compile(lenet())
    m.save(str(tmp_path))
    host = (tmp_path / "model_host.c").read_text()
    slave = (tmp_path / "model_slave.c").read_text()
    for call in ("athread_init", "athread_spawn", "athread_join", "athread_halt"):
        assert call in host
    for call in ("athread_get(PE_MODE", "athread_put(PE_MODE", "swmlir_dma_wait", "athread_get_id(-1)"):
        assert call in slave
    assert (tmp_path / "model.weights.bin").stat().st_size >= 4 * (6 * 25 + 16 * 150 + 120 * 400)
    assert "sw5cc -slave" in (tmp_path / "Makefile").read_text()
    # no weight values are printed into the C sources
    assert os.path.getsize(tmp_path / "model_host.c") < 64 * 1024


def test_hand_edited_kernels_that_touch_main_memory_directly_are_stopped(tmp_path):
    """CPE code reaches main memory only by DMA: emitted kernels edited to read their argument struct where it
    lies, to load a weight or to store into the arena directly are stopped (status 3) by a line naming the kernel,
    the CPE, the address and the buffer. The opt-in build runs them and counts the accesses."""
    import re
    import subprocess

    from swmlir import runtime
    m = swmlir.compile(mlp(batch=2, sizes=(20, 16, 4)))
    m.save(str(tmp_path))
    slave = (tmp_path / "model_slave.c").read_text()
    # the entry fetches its argument struct into LDM by one DMA, then reads the fields there
    entry = re.search(r"void (main_k0\w*)\(void\* (v\d+)\) \{\n  struct \1_args (v\d+);", slave)
    kernel, arg, local = entry.groups()
    assert f"athread_get(PE_MODE, {arg}, " in slave and f"sizeof(struct {kernel}_args)" in slave
    body = re.search(rf"static void {kernel}_body\(float (v\d+)\[2\]\[20\], float (v\d+)\[16\]\[20\], "
                     rf"float v\d+\[16\], float (v\d+)\[2\]\[16\]\) \{{\n", slave)
    x, w, out = body.groups()
    edits = {
        "argument": (f" = {local}.a1;", f" = ((struct {kernel}_args *){arg})->a1;", "load", "the argument struct ["),
        "weight": (body.group(0), body.group(0) + f"  volatile float t = {w}[3][1];\n", "load", "the weights ["),
        "input": (body.group(0), body.group(0) + f"  volatile float t = {x}[1][2];\n", "load", "input 0 ["),
        "store": (body.group(0), body.group(0) + f"  {out}[0][5] = 1.0f;\n", "store", "the arena ["),
    }
    xin = np.random.default_rng(0).standard_normal((2, 20)).astype(np.float32)
    xin.tofile(tmp_path / "in0.bin")
    for name, (old, new, kind, where) in edits.items():
        assert slave.count(old) >= 1, name
        src = tmp_path / f"slave_{name}.c"
        src.write_text(slave.replace(old, new, 1))
        exe = runtime.build_emulated_executable(str(tmp_path / name), [str(tmp_path / "model_host.c")], [str(src)],
                                                ldm_bytes=m.target.ldm_bytes)
        p = subprocess.run([exe, str(tmp_path / "model.weights.bin"), str(tmp_path / "in0.bin"),
                            str(tmp_path / "out0.bin")], capture_output=True, text=True, timeout=120)
        assert p.returncode == runtime.EMULATOR_EXIT_CODE, (name, p.stderr)
        line = p.stderr.strip().splitlines()[-1]
        assert line.startswith(f"swmlir-emulator: error: kernel '{kernel}' (launch 0), CPE "), line
        assert f", direct {kind}: address 0x" in line and where in line and "only by DMA" in line, line
    # the opt-in mode: the weight load runs, and 64 CPEs x one 4-byte load per work item are counted
    exe = runtime.build_emulated_executable(str(tmp_path / "count"), [str(tmp_path / "model_host.c")],
                                            [str(tmp_path / "slave_weight.c")], ldm_bytes=m.target.ldm_bytes,
                                            direct_access="count")
    stats = tmp_path / "count.json"
    runtime.run_emulated(exe, str(tmp_path / "model.weights.bin"), [str(tmp_path / "in0.bin")],
                         [str(tmp_path / "out0.bin")], stats_json=str(stats))
    np.testing.assert_allclose(np.fromfile(tmp_path / "out0.bin", np.float32).reshape(2, 4), m.run([xin])[0],
                               rtol=0, atol=0)
    first = json.loads(stats.read_text())["launches"][0]
    assert first["kernel"] == kernel and first["gld_requests"] == 64 and first["gld_bytes"] == 64 * 4


def test_mobilenet_v2_style():
    from swmlir.testing.networks import mobilenet_v2
    x = np.random.default_rng(5).standard_normal((1, 3, 64, 64)).astype(np.float32)
    _check(mobilenet_v2(), {"x": x})


def test_transformer_encoder_block():
    from swmlir.testing.networks import transformer_encoder
    x = np.random.default_rng(6).standard_normal((1, 128, 256)).astype(np.float32)
    _check(transformer_encoder(), {"x": x})


def _check_all(model, feeds):
    """Every output, checked against onnxruntime (the count too)."""
    got = swmlir.compile(model).run(feeds)
    ref = onnxruntime_outputs(model, feeds)
    assert len(got) == len(ref) == len(model.graph.output)
    for o, g, r in zip(model.graph.output, got, ref):
        np.testing.assert_allclose(g, r, rtol=RTOL, atol=ATOL, err_msg=f"output {o.name}")


def test_constants_that_are_outputs_and_read_by_kernels():
    """Constants (a Constant node, initializers listed as graph outputs) that kernels also read are the model's
    outputs as stored. A one-element one is read by its kernel through a constant index and promoted to LDM
    outside the kernel; its graph output was that LDM copy, which the host dropped: it came back 0."""
    import onnx
    from onnx import TensorProto, helper
    from onnx.numpy_helper import from_array
    f32 = np.float32
    consts = {"c1": np.array([0.75], f32), "c34": np.arange(1, 13, dtype=f32).reshape(3, 4) / 8,
              "c0": np.array(-1.5, f32)}
    inits = {"i1": np.array([2.5], f32), "i34": np.arange(12, dtype=f32).reshape(3, 4) - 5}
    nodes = [helper.make_node("Constant", [], [k], name=k, value=from_array(v)) for k, v in consts.items()]
    x = "x"
    for k in [*consts, *inits]:
        nodes.append(helper.make_node("Mul", [x, k], [f"m_{k}"], name=f"m_{k}"))
        nodes.append(helper.make_node("Sigmoid", [f"m_{k}"], [f"s_{k}"], name=f"s_{k}"))   # one kernel each
        x = f"s_{k}"
    outs = [helper.make_tensor_value_info(x, TensorProto.FLOAT, [2, 3, 4])]
    outs += [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in {**consts, **inits}.items()]
    graph = helper.make_graph(nodes, "consts", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                              outs, initializer=[from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    _check_all(model, {"x": np.random.default_rng(1).standard_normal((2, 3, 4)).astype(f32)})


def test_one_element_input_that_is_an_output_and_read_by_a_kernel():
    from onnx import TensorProto, helper
    v = helper.make_tensor_value_info
    graph = helper.make_graph([helper.make_node("Mul", ["x", "s"], ["y"], name="m"),
                               helper.make_node("Identity", ["s"], ["o"], name="id")], "passthrough",
                              [v("x", TensorProto.FLOAT, [2, 3, 4]), v("s", TensorProto.FLOAT, [1])],
                              [v("y", TensorProto.FLOAT, [2, 3, 4]), v("o", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    rng = np.random.default_rng(2)
    _check_all(model, {"x": rng.standard_normal((2, 3, 4)).astype(np.float32), "s": np.array([0.9], np.float32)})


def test_a_schedule_that_cannot_fit_in_ldm_is_an_error_naming_the_op():
    import dataclasses

    from swmlir.errors import ScheduleError
    from swmlir.targets import get_target
    tiny = dataclasses.replace(get_target("sw26010"), name="tiny", ldm_bytes=1024, ldm_reserved_bytes=1000)
    with pytest.raises(ScheduleError) as e:
        swmlir.compile(lenet(), tiny)
    msg = str(e.value)
    assert "schedule" in msg and "tiles" in msg and "LDM" in msg and "(node '" in msg


def test_schedule_keeps_tricky_maps_correct_or_refuses_them():
    """floordiv maps must not be tiled (the input window would be too small); negative coefficients are refused
    with a ScheduleError instead of an MLIR assertion that kills the process."""
    import subprocess
    import sys
    code = r'''
import numpy as np
from mlir import ir
from onnx import helper
import swmlir
from swmlir.frontend.onnx import builders as b
from swmlir.frontend.onnx.registry import converter
from swmlir.testing.models import make_model

@converter("TestRepeat3", since=1)
def repeat(ctx, node):
    x = node.input(0)
    (m, n), d = b.shape_of(x), b.dims(2)
    read = ir.AffineMap.get(2, 0, [ir.AffineExpr.get_floor_div(d[0], 3), d[1]])
    return b.generic([x], [read, b.identity_map(2)], b.empty([3 * m, n], b.elem_of(x)), lambda v, _o: v)

@converter("TestReverse", since=1)
def reverse(ctx, node):
    x = node.input(0)
    s = b.shape_of(x)
    d0, d1 = b.dims(2)
    m = ir.AffineMap.get(2, 0, [d0, ir.AffineConstantExpr.get(s[1] - 1) - d1])
    return b.generic([x], [m, b.identity_map(2)], b.empty(s, b.elem_of(x)), lambda v, _o: v)

x = np.arange(10000, dtype=np.float32).reshape(100, 100)
m = make_model([helper.make_node("TestRepeat3", ["x"], ["y"])], {"x": (100, 100)}, {"y": None}, opset=13)
assert np.array_equal(swmlir.compile(m).run([x])[0], np.repeat(x, 3, axis=0))
m = make_model([helper.make_node("TestReverse", ["x"], ["y"])], {"x": (100, 100)}, {"y": None}, opset=13)
try:
    swmlir.compile(m)
except swmlir.ScheduleError as e:
    assert "negative coefficient" in str(e)
    print("refused")
'''
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and "refused" in p.stdout, p.stderr[-2000:]


@pytest.mark.skipif(__import__("shutil").which("cmake") is None, reason="cmake not installed")
def test_emitted_cmake_project_builds_against_the_emulator(tmp_path):
    import subprocess
    m = swmlir.compile(mlp(batch=2, sizes=(20, 16, 4)))
    m.save(str(tmp_path))
    for cmd in (["cmake", "-S", ".", "-B", "build"], ["cmake", "--build", "build", "-j2"]):
        p = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    x = np.random.default_rng(0).standard_normal((2, 20)).astype(np.float32)
    x.tofile(tmp_path / "in0.bin")
    p = subprocess.run(["./build/model", "model.weights.bin", "in0.bin", "out0.bin"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    got = np.fromfile(tmp_path / "out0.bin", dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(got, m.run([x])[0], rtol=0, atol=0)
