"""The `swmlir` and `swmlir-opt` commands as a user runs them (subprocesses, exit codes, messages)."""
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from swmlir.testing.networks import lenet, mlp


def run(*args, check=True):
    p = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


@pytest.fixture(scope="module")
def lenet_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "lenet.onnx"
    onnx.save(lenet(), str(p))
    return str(p)


def test_compile_writes_the_files(lenet_path, tmp_path):
    out = tmp_path / "out"
    p = run("swmlir.cli", "compile", lenet_path, "--target", "sw26010", "-o", str(out), "--timing")
    for f in ("model_host.c", "model_slave.c", "model.h", "model_kernels.h", "model.weights.bin", "Makefile",
              "CMakeLists.txt"):
        assert (out / f).exists(), f
    assert "CPE kernels" in p.stdout and "time" in p.stdout


@pytest.mark.parametrize("stage,needle", [("linalg", "linalg.generic"), ("schedule", "scf.forall"),
                                          ("sunway", "sunway.spawn"), ("split", "kernel module"),
                                          ("c", "athread_spawn")])
def test_emit_stops_after_a_stage(lenet_path, stage, needle):
    p = run("swmlir.cli", "compile", lenet_path, "--emit", stage)
    assert needle in p.stdout
    assert len(p.stdout) < 200_000  # LeNet's 245 KB of weights are not printed (no hex blobs, no C arrays)


def test_run_check_with_npz(tmp_path):
    model = mlp(batch=2, sizes=(20, 16, 4))
    path = tmp_path / "mlp.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(0).standard_normal((2, 20)).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x)
    p = run("swmlir.cli", "run", str(path), "--inputs", str(tmp_path / "in.npz"), "--output",
            str(tmp_path / "out.npz"), "--check")
    assert "OK" in p.stdout
    with np.load(tmp_path / "out.npz") as z:
        assert z["prob"].shape == (2, 4)
        np.testing.assert_allclose(z["prob"].sum(axis=1), 1.0, rtol=1e-5)


def test_unsupported_ops_are_listed_at_once(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="ok"),
             helper.make_node("FancyOp", ["a"], ["b"], name="first_bad"),
             helper.make_node("OtherOp", ["b"], ["y"], name="second_bad")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    p = run("swmlir.cli", "compile", str(path), "-o", str(tmp_path / "o"), check=False)
    assert p.returncode == 1
    for needle in ("FancyOp", "first_bad", "OtherOp", "second_bad", "opset 13"):
        assert needle in p.stderr
    assert "Traceback" not in p.stderr


def test_missing_model_file_is_a_clear_error(tmp_path):
    p = run("swmlir.cli", "compile", str(tmp_path / "nope.onnx"), check=False)
    assert p.returncode == 1 and "cannot read ONNX model" in p.stderr and "Traceback" not in p.stderr


def test_swmlir_opt_help_lists_our_passes():
    p = run("swmlir.opt", "--help")
    for flag in ("sunway-schedule", "sunway-lower-dma", "sunway-lower-ldm", "sunway-outline-kernels",
                 "sunway-map-cpes", "sunway-check-ldm", "sunway-lower-to-athread", "sunway-host-to-emitc"):
        assert flag in p.stdout


def test_bench_reports_exact_counters(lenet_path, tmp_path):
    p = run("swmlir.cli", "bench", lenet_path, "--repeat", "1", "--json", str(tmp_path / "b.json"))
    assert "flop/B" in p.stdout and "LDM peak" in p.stdout
    import json
    r = json.loads((tmp_path / "b.json").read_text())
    ks = r["kernels"]
    assert ks and all(k["ldm_peak_bytes"] <= 64 * 1024 for k in ks)
    # the emulator's measured DMA bytes equal what the compiler planned, kernel by kernel
    assert all(k["get_bytes"] + k["put_bytes"] == k["dma_planned_bytes"] for k in ks)
    assert sum(k["flops"] for k in ks) > 800_000
