"""`swmlir run` with bad inputs, bad output paths and models onnxruntime refuses; temporary folders; graph
inputs that are also outputs (issue 9).

Every failure is one line on stderr, `swmlir: error: ...`, with a non-zero exit and no traceback.
"""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import swmlir
from swmlir.testing.compare import run_onnxruntime
from swmlir.testing.models import single_node


def run_cli(*args, env=None, code=None):
    cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "swmlir.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})


def assert_one_line_error(p, *words):
    assert p.returncode != 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("swmlir: error: "), p.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def two_inputs(tmp_path_factory):
    """y = x * s (x float32 [2, 3], s int64 [3] cast to float)."""
    d = tmp_path_factory.mktemp("m")
    nodes = [helper.make_node("Cast", ["s"], ["sf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["x", "sf"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
                                       helper.make_tensor_value_info("s", TensorProto.INT64, [3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    path = d / "m.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


GOOD = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.array([1, 2, 3], np.int64)}


def test_good_inputs_run_and_check(two_inputs, tmp_path):
    np.savez(tmp_path / "in.npz", **GOOD)
    p = run_cli("run", str(two_inputs), "--inputs", str(tmp_path / "in.npz"), "-o", str(tmp_path / "out"),
                "--check", env={"TMPDIR": str(tmp_path)})
    assert p.returncode == 0, p.stderr
    assert "OK" in p.stdout and str(tmp_path / "out.npz") in p.stdout
    with np.load(tmp_path / "out.npz") as z:
        np.testing.assert_array_equal(z["y"], GOOD["x"] * GOOD["s"])
    assert not [f for f in os.listdir(tmp_path) if f.startswith("swmlir-")]   # the build folder is gone


BAD_NPZ = [
    ("dtype", {"x": GOOD["x"].astype(np.float64), "s": GOOD["s"]}, ["'x' is float64, the model takes float32"]),
    ("int dtype", {"x": GOOD["x"], "s": GOOD["s"].astype(np.int32)}, ["'s' is int32, the model takes int64"]),
    ("missing", {"x": GOOD["x"]}, ["no array for input(s) ['s']"]),
    ("extra", {**GOOD, "bias": np.zeros(3), "z": np.ones(1)}, ["array(s) ['bias', 'z'] name no graph input"]),
    ("shape", {"x": GOOD["x"].T.copy(), "s": GOOD["s"]}, ["'x' has shape [3, 2], the model declares [2, 3]"]),
    ("rank", {"x": GOOD["x"].reshape(-1), "s": GOOD["s"]}, ["'x' has shape [6], the model declares [2, 3]"]),
    ("all at once", {"x": GOOD["x"].astype(np.float16), "t": GOOD["s"]},
     ["no array for input(s) ['s']", "array(s) ['t']", "'x' is float16"]),
]


@pytest.mark.parametrize("arrays, words", [b[1:] for b in BAD_NPZ], ids=[b[0] for b in BAD_NPZ])
def test_npz_inputs_are_checked(two_inputs, tmp_path, arrays, words):
    np.savez(tmp_path / "in.npz", **arrays)
    p = run_cli("run", str(two_inputs), "--inputs", str(tmp_path / "in.npz"))
    assert_one_line_error(p, "in.npz", *words)
    assert "  y:" not in p.stdout   # refused before compiling or running


@pytest.mark.parametrize("kind", ["missing", "not a zip", "npy", "folder", "zip of text"])
def test_unreadable_inputs_file(two_inputs, tmp_path, kind):
    f = tmp_path / "in.npz"
    if kind == "not a zip":
        f.write_bytes(b"certainly not a zip archive")
    elif kind == "npy":
        with open(f, "wb") as fh:
            np.save(fh, GOOD["x"])
    elif kind == "folder":
        f.mkdir()
    elif kind == "zip of text":
        import zipfile
        with zipfile.ZipFile(f, "w") as z:
            z.writestr("x.npy", "not an array")
    p = run_cli("run", str(two_inputs), "--inputs", str(f))
    assert_one_line_error(p, str(f))


@pytest.mark.parametrize("kind", ["no folder", "under a file", "a folder", "unwritable"])
def test_unwritable_output(two_inputs, tmp_path, kind):
    target = {"no folder": tmp_path / "nope" / "out.npz", "under a file": tmp_path / "file.txt" / "out.npz",
              "a folder": tmp_path, "unwritable": "/proc/swmlir-out.npz"}[kind]
    (tmp_path / "file.txt").write_text("x")
    p = run_cli("run", str(two_inputs), "--output", str(target), env={"TMPDIR": str(tmp_path)})
    assert_one_line_error(p, "--output")
    assert not [f for f in os.listdir(tmp_path) if f.startswith("swmlir-")]


@pytest.mark.parametrize("kind", ["no folder", "a file", "emit file"])
def test_compile_unwritable_output(two_inputs, tmp_path, kind):
    (tmp_path / "file.txt").write_text("x")
    args = {"no folder": ["-o", str(tmp_path / "file.txt" / "out")], "a file": ["-o", str(tmp_path / "file.txt")],
            "emit file": ["--emit", "linalg", "-o", str(tmp_path / "nope" / "m.mlir")]}[kind]
    p = run_cli("compile", str(two_inputs), *args)
    assert_one_line_error(p, "-o")


def test_missing_model_file(tmp_path):
    np.savez(tmp_path / "in.npz", **GOOD)
    p = run_cli("run", str(tmp_path / "nope.onnx"), "--inputs", str(tmp_path / "in.npz"))
    assert_one_line_error(p, "cannot read ONNX model", "nope.onnx")


# ----------------------------------------------------------------------------------------------- --check
def test_check_when_onnxruntime_refuses_the_model(tmp_path):
    # LRN with an even size: swmlir computes it from the spec, onnxruntime refuses it at session creation
    path = tmp_path / "lrn.onnx"
    onnx.save(single_node("LRN", {"x": (1, 4, 3, 3)}, opset=13, size=2), str(path))
    p = run_cli("run", str(path), "--check")
    line = assert_one_line_error(p, "[check]", "onnxruntime cannot run the model")
    assert "size_ % 2 == 1" in line
    assert "y: float32 [1, 4, 3, 3]" in p.stdout   # swmlir's own run went through


def test_check_without_onnxruntime(two_inputs):
    code = ("import sys; sys.modules['onnxruntime'] = None\n"
            "from swmlir.cli import main\n"
            f"sys.exit(main(['run', {str(two_inputs)!r}, '--check']))")
    p = run_cli(code=code)
    assert_one_line_error(p, "--check needs onnxruntime", "pip install onnxruntime")


# ----------------------------------------------------------------------------------------------- temporary folders
def test_compiled_model_removes_its_build_folder(two_inputs, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def folders():
        return sorted(f for f in os.listdir(tmp_path) if f.startswith("swmlir-"))

    m = swmlir.compile(str(two_inputs))
    assert folders() == []                      # compile alone makes none
    np.testing.assert_array_equal(m.run(GOOD)[0], GOOD["x"] * GOOD["s"])
    assert len(folders()) == 1                  # the build, kept for the next run
    m.run(GOOD)
    assert len(folders()) == 1
    m.close()
    assert folders() == []
    np.testing.assert_array_equal(m.run(GOOD)[0], GOOD["x"] * GOOD["s"])   # a closed model builds again
    del m
    gc.collect()
    assert folders() == []                      # garbage collection removes it
    with swmlir.compile(str(two_inputs)) as m:
        m.run(GOOD)
        assert len(folders()) == 1
    assert folders() == []
    m.save(str(tmp_path / "saved"))            # still usable after the with block
    assert (tmp_path / "saved" / "model_host.c").exists()


def test_build_folder_removed_at_exit(two_inputs, tmp_path):
    code = ("import numpy as np, swmlir\n"
            f"m = swmlir.compile({str(two_inputs)!r})\n"
            "m.run({'x': np.zeros((2, 3), np.float32), 's': np.zeros(3, np.int64)})\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "TMPDIR": str(tmp_path)})
    assert p.returncode == 0, p.stderr
    assert not [f for f in os.listdir(tmp_path) if f.startswith("swmlir-")]


# ----------------------------------------------------------------------------------------------- inputs as outputs
def f32(name, shape=(2, 3)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


PASSTHROUGH = {
    "only the input": ([], [f32("x")], [f32("x")]),
    "input and result": ([helper.make_node("Relu", ["x"], ["y"])], [f32("x")], [f32("y"), f32("x")]),
    "swapped inputs": ([], [f32("a"), f32("b")], [f32("b"), f32("a")]),
    "input twice and used": ([helper.make_node("Add", ["x", "x"], ["y"])], [f32("x")],
                             [f32("x"), f32("y"), f32("x")]),
    "integer input": ([], [helper.make_tensor_value_info("i", TensorProto.INT64, [4])],
                      [helper.make_tensor_value_info("i", TensorProto.INT64, [4])]),
}


@pytest.mark.parametrize("case", list(PASSTHROUGH))
def test_graph_input_that_is_an_output(case):
    nodes, ins, outs = PASSTHROUGH[case]
    m = helper.make_model(helper.make_graph(nodes, "g", ins, outs), opset_imports=[helper.make_opsetid("", 17)])
    rng = np.random.default_rng(0)
    feeds = {i.name: (rng.standard_normal((2, 3)).astype(np.float32) if i.type.tensor_type.elem_type == 1
                      else np.arange(4, dtype=np.int64) * 7) for i in m.graph.input}
    with swmlir.compile(m) as compiled:
        header = compiled.files["model.h"]
        params = header.split("void swmlir_run(")[1].split(")")[0].split(", ")
        assert len(params) == len(ins) + len(outs) and len(set(params)) == len(params)   # distinct C names
        got = compiled.run(feeds)     # builds model_host.c, which includes model.h, and runs it
    want = run_onnxruntime(m, feeds)
    assert len(got) == len(want) == len(outs)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_cli_run_check_of_an_input_that_is_an_output(tmp_path):
    m = helper.make_model(helper.make_graph([helper.make_node("Neg", ["x"], ["y"])], "g", [f32("x")],
                                            [f32("x"), f32("y")]), opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, str(tmp_path / "m.onnx"))
    p = run_cli("run", str(tmp_path / "m.onnx"), "--check", "-o", str(tmp_path / "out.npz"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("OK") == 2


def test_python_run_refuses_a_lossy_dtype_and_converts_a_safe_one():
    """CompiledModel.run: a float64 array for a float32 input is refused with the input's name and both types
    (onnxruntime refuses it too) rather than rounded silently; int32 for int64 and Python lists convert."""
    from swmlir.errors import CompileError
    f = swmlir.compile(single_node("Relu", {"x": (2, 3)}, opset=13), target="host")
    with pytest.raises(CompileError, match=r"input 'x' is float64, the model expects float32"):
        f.run([np.zeros((2, 3), np.float64)])
    assert f.run([[[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]]])[0].tolist() == [[1, 0, 3], [0, 5, 0]]
    m = helper.make_model(helper.make_graph(
        [helper.make_node("Neg", ["x"], ["y"])], "g", [helper.make_tensor_value_info("x", TensorProto.INT64, [3])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [3])]), opset_imports=[helper.make_opsetid("", 13)])
    g = swmlir.compile(m, target="host")
    assert g.run([np.array([1, 2, 3], np.int32)])[0].tolist() == [-1, -2, -3]
