"""The MPI mode (issue 11, item 3; swmlir/mpi.py): data parallel over the batch on N ranks, the emitted C built with
mpicc against the emulator and run with mpirun, matched with onnxruntime; the package's MPI variant (Makefile:
mpicc -host / -hybrid and bsub -n N; CMake: model_mpi with Open MPI); the errors of an uneven split."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir import mpi
from swmlir.cli import onnxruntime_outputs
from swmlir.errors import CompileError
from swmlir.testing import networks
from swmlir.testing.networks import lenet, mlp

HAVE_MPI = shutil.which("mpirun") is not None and shutil.which("mpicc") is not None
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="mpirun/mpicc not found: Open MPI is not installed "
                                                    "(scripts/setup.sh installs it as root: apt-get install "
                                                    "openmpi-bin libopenmpi-dev)")


def cli(*args, check=True):
    p = subprocess.run([sys.executable, "-m", "swmlir.cli", *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


@pytest.fixture(scope="module")
def lenet4(tmp_path_factory):
    p = tmp_path_factory.mktemp("m") / "lenet4.onnx"
    onnx.save(lenet(batch=4), str(p))
    return str(p)


@needs_mpi
def test_cnn_batch_4_on_4_ranks_matches_onnxruntime(lenet4, tmp_path):
    """The CI test of the issue: a small CNN (LeNet, batch 4) on 4 MPI ranks, one sample each, through the
    emitted C on the emulator (swmlir run --ranks 4 --check)."""
    x = np.random.default_rng(7).standard_normal((4, 1, 28, 28)).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x)
    p = cli("run", lenet4, "--ranks", "4", "--check", "--inputs", str(tmp_path / "in.npz"),
            "--output", str(tmp_path / "out.npz"))
    assert "ran on 4 MPI ranks (mpirun), 1 of 4 samples each" in p.stdout
    assert "OK" in p.stdout and "MISMATCH" not in p.stdout
    with np.load(tmp_path / "out.npz") as z:
        got = z["prob"]
    ref = onnxruntime_outputs(lenet(batch=4), {"x": x})[0]
    assert got.shape == (4, 10)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
    # the rows come back in rank order: every sample differs, so a permutation would not match
    assert len({tuple(np.round(r, 4)) for r in ref}) == 4


@needs_mpi
def test_slices_of_several_samples_through_the_api():
    """An MLP with batch 4 on 2 ranks (2 samples each), from the Python API; the C is the slice's."""
    model = mlp(batch=4, sizes=(20, 16, 4))
    m = swmlir.compile(model, "sw26010", ranks=2)
    with m:
        assert m.ranks == 2 and m.info.inputs[0].shape == (4, 20)
        assert "struct" in m.files["model_host.c"]
        hdr = json.loads(m.files["model.io.json"])
        assert hdr["inputs"][0]["shape"] == [4, 20]          # the MPI program's files: the whole batch
        x = np.random.default_rng(3).standard_normal((4, 20)).astype(np.float32)
        got = m.run({"x": x}, repeat=2)[0]
        assert m.last_time_ms is not None and m.last_time_ms > 0
    ref = onnxruntime_outputs(model, {"x": x})[0]
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def batched_transformer(batch: int) -> onnx.ModelProto:
    """The transformer block of test_end_to_end with a batch: its head reshapes take the batch from the data
    (-1), the graph's input and output declare `batch`."""
    m = networks.transformer_encoder(seq=16, hidden=32, heads=2, ffn=64)
    for t in m.graph.initializer:
        if t.name in ("split_heads", "merge_heads"):
            a = numpy_helper.to_array(t).copy()
            a[0] = -1
            t.CopyFrom(numpy_helper.from_array(a, t.name))
    for vi in (*m.graph.input, *m.graph.output):
        if vi.name in ("x", "y"):
            vi.type.tensor_type.shape.dim[0].dim_value = batch
    return m


@needs_mpi
@pytest.mark.parametrize("name", ["lenet", "mlp", "transformer"])
def test_networks_for_sw26010pro_on_4_ranks(name):
    """Issue 11's end-to-end networks through the CRTS C of sw26010pro on 4 ranks, against onnxruntime."""
    model = {"lenet": lambda: lenet(batch=4), "mlp": lambda: mlp(batch=8, sizes=(64, 32, 10)),
             "transformer": lambda: batched_transformer(4)}[name]()
    m = swmlir.compile(model, "sw26010pro", ranks=4)
    with m:
        assert "CRTS_init" in m.files["model_host.c"]
        feeds = {t.name: np.random.default_rng(11).standard_normal(t.shape).astype(t.dtype) for t in m.info.inputs}
        got = m.run(feeds)
    for g, r in zip(got, onnxruntime_outputs(model, feeds)):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(r).max())))


def test_makefile_mpi_variant_uses_mpicc_host_and_hybrid(lenet4, tmp_path):
    out = tmp_path / "pkg"
    cli("compile", lenet4, "--ranks", "4", "-o", str(out))
    mk = (out / "Makefile").read_text()
    assert "MPICC_HOST ?= mpicc -host" in mk and "MPICC_LINK ?= mpicc -hybrid" in mk
    assert "-n $(RANKS)" in mk and "RANKS ?= 4" in mk
    assert (out / "runtime" / "driver_mpi.c").read_text() == open(
        os.path.join(os.path.dirname(swmlir.__file__), "runtime", "driver_mpi.c")).read()
    readme = (out / "README.md").read_text()
    assert "bsub -I -b -q q_sw_expr -n 4 -cgsp 64" in readme and "./model_mpi model.weights.bin in0.bin out0.bin" \
        in readme
    assert "| `runtime/driver_mpi.c` | the MPI program's `main`" in readme
    assert "find_package(MPI COMPONENTS C)" in (out / "CMakeLists.txt").read_text()
    # the per-rank model: the C is compiled for one sample; the package's files hold the batch
    assert "[1, 10]" not in readme and "[4, 1, 28, 28]" in readme
    if shutil.which("make"):
        cmds = subprocess.run(["make", "-n", "mpi"], cwd=out, capture_output=True, text=True, check=True).stdout
        lines = cmds.splitlines()
        assert any(ln.startswith("mpicc -host ") and "runtime/driver_mpi.c" in ln for ln in lines), cmds
        assert any(ln.startswith("mpicc -hybrid ") and "-o model_mpi" in ln for ln in lines), cmds
        assert any(ln.startswith("sw5cc -slave ") for ln in lines), cmds
        run = subprocess.run(["make", "-n", "run-mpi", "QUEUE=q_test", "RANKS=8"], cwd=out, capture_output=True,
                             text=True).stdout
        assert "bsub -I -b -q q_test -n 8 -cgsp 64" in run and "./model_mpi" in run


def test_sw26010pro_mpi_variant_uses_the_swgcc_role_flags(tmp_path):
    m = swmlir.compile(mlp(batch=2, sizes=(8, 4)), "sw26010pro", ranks=2)
    mk = m.files["Makefile"]
    assert "MPICC_HOST ?= mpicc -mhost" in mk and "MPICC_LINK ?= mpicc -mhybrid" in mk
    assert "-n $(RANKS) -cgsp 64 -share_size 1600" in mk


def test_without_ranks_the_package_has_no_mpi_part():
    """Byte-identical single-rank output: --ranks absent, nothing of the MPI mode is in the package."""
    m = swmlir.compile(lenet(batch=4), "sw26010")
    assert m.ranks is None
    assert "runtime/driver_mpi.c" not in m.files
    for name in ("Makefile", "CMakeLists.txt", "README.md", "model_host.c"):
        for word in ("driver_mpi", "mpicc", "MPI", "--ranks"):
            assert word not in m.files[name], (name, word)
    assert json.loads(m.files["model.io.json"])["inputs"][0]["shape"] == [4, 1, 28, 28]
    # the slice of a --ranks package is the single-rank compile of batch/N, byte for byte
    one = swmlir.compile(lenet(batch=1), "sw26010")
    four = swmlir.compile(lenet(batch=4), "sw26010", ranks=4)
    for name in ("model_host.c", "model_slave.c", "model.h", "model_kernels.h", "model.weights.bin"):
        assert one.files[name] == four.files[name], name


def test_uneven_batch_is_an_error_naming_batch_and_ranks(lenet4):
    p = cli("run", lenet4, "--ranks", "3", check=False)
    assert p.returncode == 1
    assert "--ranks 3: the batch of input 'x' is 4" in p.stderr and "(1, 2, 4)" in p.stderr
    with pytest.raises(CompileError, match="positive number of MPI ranks"):
        swmlir.compile(lenet(batch=4), ranks=0)


def test_split_errors():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    sym = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]),
                            opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(CompileError, match="batch \\(first dim\\) of input 'x' is symbolic"):
        mpi.per_rank_model(sym, 2)
    proto, shapes, batch, whole = mpi.per_rank_model(sym, 2, {"x": [6, 3]})
    assert batch == 6 and shapes == {"x": [3, 3]} and whole == {"y": [6, 3]}   # inferred
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [3, 3]
    # a model whose batch is fixed inside (Reshape to [4, -1]) cannot be split: the error says why
    shape = helper.make_tensor("s", TensorProto.INT64, [2], [4, -1])
    x4 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 2, 3])
    y4 = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 6])
    fixed = helper.make_model(helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"])], "g", [x4], [y4],
                                                [shape]), opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(CompileError, match="one rank's slice of the batch \\(1 of 4 samples\\) failed"):
        swmlir.compile(fixed, "sw26010", ranks=4)     # [1, 2, 3] cannot be [4, -1]
    with pytest.raises(CompileError, match="output 'y' of one slice \\(2 of 4 samples\\) has shape \\[4, 3\\], "
                                           "the whole batch's is \\[4, 6\\]"):
        swmlir.compile(fixed, "sw26010", ranks=2)     # [2, 2, 3] can, to the wrong [4, 3]


def test_launcher_flags(monkeypatch):
    if not HAVE_MPI:
        pytest.skip("mpirun not found: Open MPI is not installed")
    cmd = mpi.launcher(4)
    assert cmd[1:3] == ["-n", "4"]
    if mpi._flavour(cmd[0]) == "openmpi":
        assert ("--allow-run-as-root" in cmd) == (os.geteuid() == 0)
        assert ("--oversubscribe" in cmd) == (4 > (os.cpu_count() or 1))
        assert cmd[-2:] == ["--bind-to", "none"]


@needs_mpi
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not found")
def test_cmake_build_of_the_package_runs_with_mpirun(tmp_path):
    """The laptop path of the package's README: CMake finds Open MPI, builds build/model_mpi, mpirun runs it;
    with a number of ranks that does not fit the files the driver says so."""
    model = mlp(batch=4, sizes=(12, 8, 3))
    m = swmlir.compile(model, "sw26010", ranks=2)
    out = tmp_path / "pkg"
    m.save(str(out))
    subprocess.run(["cmake", "-S", str(out), "-B", str(out / "build")], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(out / "build"), "--target", "model_mpi"], check=True,
                   capture_output=True)
    x = np.random.default_rng(5).standard_normal((4, 12)).astype(np.float32)
    x.tofile(out / "in0.bin")
    base = mpi.launcher(2)
    subprocess.run([*base, "./build/model_mpi", "model.weights.bin", "in0.bin", "out0.bin"], cwd=out, check=True,
                   capture_output=True, timeout=300)
    got = np.fromfile(out / "out0.bin", np.float32).reshape(4, 3)
    np.testing.assert_allclose(got, onnxruntime_outputs(model, {"x": x})[0], rtol=1e-4, atol=1e-5)
    wrong = mpi.launcher(1)
    p = subprocess.run([*wrong, "./build/model_mpi", "model.weights.bin", "in0.bin", "out0.bin"], cwd=out,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2
    assert "1 ranks of a model compiled for a slice of 96 bytes take 96" in p.stderr
