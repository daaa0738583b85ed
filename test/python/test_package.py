"""The output folder as a package a user builds and runs (README, make, CMake, swmlir io), and swmlir installed from
a wheel outside the repository."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

import swmlir
from swmlir import io as swio
from swmlir import runtime
from swmlir.frontend.onnx.importer import ModelInfo, TensorInfo
from swmlir.testing.networks import mlp

REPO = Path(__file__).resolve().parents[2]
PACKAGE = Path(swmlir.__file__).resolve().parent
X = np.random.default_rng(0).standard_normal((2, 20)).astype(np.float32)


def cli(*args, cwd=None, env=None, python=sys.executable):
    return subprocess.run([python, "-m", "swmlir.cli", *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def compiled():
    return {t: swmlir.compile(mlp(batch=2, sizes=(20, 16, 4)), t) for t in ("sw26010", "sw26010pro", "host")}


def machine_paths(*extra) -> list[str]:
    """Paths of this machine an emitted file must never hold."""
    paths = {str(REPO), str(PACKAGE), os.path.realpath(PACKAGE), sys.prefix, os.path.realpath(sys.prefix),
             *map(str, extra)}
    return sorted(p for p in paths if len(p) > 4)


# ------------------------------------------------------------------------------------------------ the folder
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_folder_builds_with_cmake_far_from_the_repo(compiled, tmp_path):
    """Saved, then moved elsewhere: the CMake (emulator) build needs nothing but the folder, and its program
    gives what CompiledModel.run gives; no file names a path of the machine that compiled it."""
    m = compiled["sw26010"]
    saved = tmp_path / "saved"
    m.save(str(saved))
    pkg = tmp_path / "elsewhere" / "pkg"
    shutil.copytree(saved, pkg)
    shutil.rmtree(saved)     # nothing may point back at where it was written
    for f in pkg.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            for p in machine_paths(saved, tmp_path, Path.home()):
                assert p.encode() not in data, f"{f.relative_to(pkg)} holds the machine path {p}"
    assert (pkg / "runtime" / "emulator.c").exists() and (pkg / "runtime" / "include" / "swmlir_slave.h").exists()
    for cmd in (["cmake", "-S", ".", "-B", "build"], ["cmake", "--build", "build", "-j2"]):
        p = subprocess.run(cmd, cwd=pkg, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    np.savez(tmp_path / "in.npz", x=X)
    p = cli("io", "pack", str(tmp_path / "in.npz"), str(pkg))
    assert p.returncode == 0, p.stderr
    p = subprocess.run(["cmake", "--build", "build", "--target", "run"], cwd=pkg, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    p = cli("io", "unpack", str(pkg), str(tmp_path / "out.npz"))
    assert p.returncode == 0, p.stderr
    with np.load(tmp_path / "out.npz") as z:
        np.testing.assert_array_equal(z["prob"], m.run({"x": X})[0])


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
@pytest.mark.parametrize("target,cc", [("sw26010", "sw5cc"), ("sw26010pro", "swgcc")])
def test_sunway_makefile_never_includes_the_emulator(compiled, tmp_path, target, cc):
    """`make -n`: the Sunway cross-compilers with this folder and runtime/include on the include path, never the
    emulator's headers; with a stand-in vendor folder (the header dependencies gcc -M lists), athread.h, slave.h
    and simd.h come from the vendor's folder (crts.h and simd.h on sw26010pro, whose code calls CRTS). `make run`
    is the bsub line, with its variables."""
    m = compiled[target]
    m.save(str(tmp_path))
    p = subprocess.run(["make", "-n"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    assert lines and all(ln.startswith(cc) for ln in lines), p.stdout
    assert "-Iruntime/include" in p.stdout and "emulator" not in p.stdout and "-DSWMLIR_EMULATOR" not in p.stdout
    assert str(REPO) not in p.stdout and str(PACKAGE) not in p.stdout

    p = subprocess.run(["make", "in0.bin"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode != 0 and "swmlir io pack" in p.stderr   # no input file yet: make run says how to write it
    np.savez(tmp_path / "in.npz", x=X)
    assert cli("io", "pack", str(tmp_path / "in.npz"), str(tmp_path)).returncode == 0
    p = subprocess.run(["make", "-n", "run", "QUEUE=q_test", "ARGS=--repeat 3"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    assert "bsub -I -b -q q_test -n 1 -cgsp 64" in p.stdout
    assert p.stdout.rstrip().endswith("./model model.weights.bin in0.bin out0.bin --repeat 3")

    vendor = tmp_path / "vendor"
    vendor.mkdir()
    for h in ("athread.h", "slave.h", "simd.h", "crts.h"):
        (vendor / h).write_text(f"/* the vendor's {h} */\n")
    # a stand-in cross-compiler: the Makefile's -I, -D, sources and -o, other flags (-msimd, ...) dropped; gcc -M
    # writes the headers it would read into the object file
    fake = tmp_path / "fakecc"
    fake.write_text("#!/bin/sh\nargs=\"\"\nwhile [ $# -gt 0 ]; do\n  case \"$1\" in\n"
                    "    -I*|-D*|*.c) args=\"$args $1\" ;;\n    -o) args=\"$args -o $2\"; shift ;;\n  esac\n"
                    f"  shift\ndone\nexec gcc -M -I{vendor} $args\n")
    fake.chmod(0o755)
    objs = ["model_host.o", "model_slave.o", "swmlir_runtime.o", "driver.o"]
    dep = str(fake)
    p = subprocess.run(["make", *objs, f"CC_HOST={dep}", f"CC_SLAVE={dep}"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    deps = {o: (tmp_path / o).read_text() for o in objs}
    assert all("runtime/emulator" not in d for d in deps.values()), deps
    if m.target.runtime_api == "crts":
        assert f"{vendor}/crts.h" in deps["model_host.o"] and f"{vendor}/athread.h" not in deps["model_host.o"]
        assert f"{vendor}/crts.h" in deps["model_slave.o"] and f"{vendor}/simd.h" in deps["model_slave.o"]
        assert f"{vendor}/slave.h" not in deps["model_slave.o"]   # the vendor's crts.h includes it
    else:
        assert f"{vendor}/athread.h" in deps["model_host.o"]
        assert f"{vendor}/slave.h" in deps["model_slave.o"] and f"{vendor}/simd.h" in deps["model_slave.o"]


@pytest.mark.parametrize("target", ["sw26010", "host"])
def test_readme_names_every_file_and_the_commands(compiled, tmp_path, target):
    m = compiled[target]
    written = m.save(str(tmp_path))
    names = sorted(str(Path(p).relative_to(tmp_path)) for p in written)
    assert "README.md" in names and "model.io.json" in names
    assert {f"runtime/{f}" for f in runtime.PACKAGE_FILES} <= set(names)
    readme = (tmp_path / "README.md").read_text()
    for n in names:
        assert f"`{n}`" in readme, n
    for needle in ("cmake -S . -B build", "./build/model model.weights.bin in0.bin out0.bin", "swmlir io pack",
                   "swmlir io unpack", "make run"):
        assert needle in readme, needle
    if target == "sw26010":
        assert "bsub -I -b -q q_sw_expr -n 1 -cgsp 64" in readme and "sw5cc -hybrid" in readme
    else:   # no cross-compiler: make drives the emulator build
        p = subprocess.run(["make", "-n"], cwd=tmp_path, capture_output=True, text=True)
        assert p.returncode == 0 and "cmake --build build" in p.stdout, p.stdout + p.stderr


# ------------------------------------------------------------------------------------------------ swmlir io
def io_folder(tmp_path) -> tuple[Path, list, list]:
    """A folder with the model.io.json of a model whose names are awkward and whose dtypes differ."""
    ins = [TensorInfo("x", (2, 3), np.dtype(np.float32)), TensorInfo("file", (4,), np.dtype(np.int64)),
           TensorInfo("m\u00e4sk/1", (2, 2), np.dtype(np.bool_))]
    outs = [TensorInfo("allow_pickle", (3,), np.dtype(np.float32)), TensorInfo("idx", (), np.dtype(np.int32))]
    info = ModelInfo("g", 13, ins, outs)
    d = tmp_path / "out"
    d.mkdir()
    (d / swio.METADATA).write_text(swio.metadata_text(info, "sw26010"))
    return d, ins, outs


def test_io_pack_and_unpack_round_trip(tmp_path):
    d, ins, outs = io_folder(tmp_path)
    rng = np.random.default_rng(1)
    feeds = {"x": rng.standard_normal((2, 3)).astype(np.float32), "file": np.arange(4, dtype=np.int64) - 2,
             "m\u00e4sk/1": np.array([[True, False], [False, True]])}
    swio.save_npz(str(tmp_path / "in.npz"), list(feeds), list(feeds.values()))
    p = cli("io", "pack", str(tmp_path / "in.npz"), str(d))
    assert p.returncode == 0, p.stderr
    assert "./model model.weights.bin in0.bin in1.bin in2.bin out0.bin out1.bin" in p.stdout
    for i, t in enumerate(ins):   # the raw files the program reads: dense, row-major, little-endian
        raw = np.fromfile(d / f"in{i}.bin", dtype=t.dtype.newbyteorder("<"))
        np.testing.assert_array_equal(raw.reshape(t.shape), feeds[t.name])
    results = [np.array([1.5, -2.0, 3.25], np.float32), np.array(7, np.int32)]
    for i, r in enumerate(results):   # what the program writes
        r.astype(r.dtype.newbyteorder("<")).tofile(d / f"out{i}.bin")
    p = cli("io", "unpack", str(d), str(tmp_path / "o.npz"))
    assert p.returncode == 0, p.stderr
    with np.load(tmp_path / "o.npz") as z:
        assert sorted(z.files) == ["allow_pickle", "idx"]
        for t, r in zip(outs, results):
            assert z[t.name].dtype == r.dtype and z[t.name].shape == t.shape
            np.testing.assert_array_equal(z[t.name], r)


@pytest.mark.parametrize("arrays,needle", [
    ({"x": np.zeros((2, 3), np.float32), "file": np.zeros(4, np.int64)}, "no array for input(s) ['m\u00e4sk/1']"),
    ({"x": np.zeros((2, 3), np.float32), "file": np.zeros(4, np.int64), "m\u00e4sk/1": np.zeros((2, 2), bool),
      "y": np.zeros(1)}, "array(s) ['y'] name no input"),
    ({"x": np.zeros((2, 3), np.float64), "file": np.zeros(4, np.int64), "m\u00e4sk/1": np.zeros((2, 2), bool)},
     "'x' is float64, the model takes float32"),
    ({"x": np.zeros((3, 2), np.float32), "file": np.zeros(4, np.int64), "m\u00e4sk/1": np.zeros((2, 2), bool)},
     "'x' has shape [3, 2], the model takes [2, 3]"),
])
def test_io_pack_errors_are_one_line(tmp_path, arrays, needle):
    d, _, _ = io_folder(tmp_path)
    swio.save_npz(str(tmp_path / "in.npz"), list(arrays), list(arrays.values()))
    p = cli("io", "pack", str(tmp_path / "in.npz"), str(d))
    assert p.returncode == 1 and needle in p.stderr, p.stderr
    assert p.stderr.startswith("swmlir: error:") and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not list(d.glob("*.bin"))   # nothing written on an error


def test_io_folder_errors_are_one_line(tmp_path):
    d, _, _ = io_folder(tmp_path)
    np.savez(tmp_path / "in.npz", x=X)

    def fails(needle, *args):
        p = cli("io", *args)
        assert p.returncode == 1 and needle in p.stderr, (args, p.stderr)
        assert p.stderr.startswith("swmlir: error:") and len(p.stderr.strip().splitlines()) == 1, p.stderr

    fails("no out0.bin in", "unpack", str(d), str(tmp_path / "o.npz"))
    fails("does not exist", "pack", str(tmp_path / "missing.npz"), str(d))
    fails("is not an .npz archive", "pack", str(d / swio.METADATA), str(d))
    fails("no model.io.json in", "pack", str(tmp_path / "in.npz"), str(tmp_path))
    (d / "out0.bin").write_bytes(b"\0" * 5)
    fails("has 5 bytes, output 'allow_pickle' (float32 [3]) has 12", "unpack", str(d), str(tmp_path / "o.npz"))
    (d / swio.METADATA).write_text("{}")
    fails("is not a valid model.io.json", "pack", str(tmp_path / "in.npz"), str(d))


def test_compiled_model_run_uses_the_same_files(compiled):
    """CompiledModel.run writes and reads the program's files through swmlir.io (one implementation)."""
    m = compiled["sw26010"]
    meta = json.loads(m.files[swio.METADATA])
    assert [(t["name"], t["file"], t["bytes"]) for t in meta["inputs"]] == [("x", "in0.bin", 160)]
    assert [(t["name"], t["dtype"], t["shape"]) for t in meta["outputs"]] == [("prob", "float32", [2, 4])]
    got = m.run({"x": X})[0]
    assert got.shape == (2, 4) and got.dtype == np.float32


# ------------------------------------------------------------------------------------------------ the wheel
def _build_wheel(tmp_path) -> tuple[Path | None, str]:
    """A wheel of the working tree (copied, so that no build files land in the repository); (None, reason) when
    no build backend is at hand: setuptools with bdist_wheel here, or pip's isolated build (registry access)."""
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for d in ("swmlir", "passes", "dialects"):
        shutil.copytree(REPO / d, src / d, symlinks=True, ignore=ignore)
    for f in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / f, src / f)
    dist = tmp_path / "dist"
    reasons = []
    for isolation in (["--no-build-isolation"], []):
        p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation, "-w", str(dist),
                            str(src)], capture_output=True, text=True, timeout=180)
        wheels = list(dist.glob("swmlir-*.whl"))
        if p.returncode == 0 and wheels:
            return wheels[0], ""
        reasons.append(((p.stderr or p.stdout).strip().splitlines() or ["?"])[-1][:200])
    return None, "; ".join(reasons)


def test_wheel_installed_outside_the_repo(tmp_path):
    """pip wheel, installed (no deps: the MLIR wheels of this environment serve) into a folder far from the
    repository: swmlir compile, run --check, bench and io work from there, with the runtime, headers and dialect
    files from the wheel; without onnxruntime, --check says so in one line."""
    import zipfile
    wheel, reason = _build_wheel(tmp_path)
    if wheel is None:
        pytest.skip(f"no build backend for a wheel (setuptools>=68 with bdist_wheel, or pip's isolated build "
                    f"with registry access): {reason}")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("swmlir/dialects/sunway.irdl.mlir", "swmlir/passes/__init__.py",
              *(f"swmlir/runtime/{f}" for f in runtime.PACKAGE_FILES), "swmlir/runtime/direct_count.c"):
        assert f in names, f
    site = tmp_path / "site"
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                        str(site), str(wheel)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    work = tmp_path / "user"
    work.mkdir()
    onnx.save(mlp(batch=2, sizes=(20, 16, 4)), str(work / "mlp.onnx"))
    # the installed package first on the path; the rest (mlir, numpy, onnx) from this environment
    env = {**os.environ, "PYTHONPATH": str(site), "SWMLIR_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("PYTHONSAFEPATH", None)
    exe = site / "bin" / "swmlir"

    def swm(*args, **kw):
        return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=work, env=kw.get("env", env),
                              timeout=300)

    where = subprocess.run([sys.executable, "-c", "import swmlir; print(swmlir.__file__)"], capture_output=True,
                           text=True, cwd=work, env=env)
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr
    p = swm("compile", "mlp.onnx", "-o", "out")
    assert p.returncode == 0, p.stderr
    assert (work / "out" / "README.md").exists() and (work / "out" / "runtime" / "emulator" / "athread.h").exists()
    for f in (work / "out").rglob("*"):
        if f.is_file():
            assert str(site).encode() not in f.read_bytes(), f
    p = swm("run", "mlp.onnx", "--check")
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr
    p = swm("bench", "mlp.onnx", "--repeat", "1")
    assert p.returncode == 0, p.stdout + p.stderr
    np.savez(work / "in.npz", x=X)
    assert swm("io", "pack", "in.npz", "out").returncode == 0 and (work / "out" / "in0.bin").exists()
    # without onnxruntime: one line, not a traceback
    blocker = tmp_path / "no_ort"
    blocker.mkdir()
    (blocker / "onnxruntime.py").write_text("raise ImportError('onnxruntime is blocked by the test')\n")
    p = swm("run", "mlp.onnx", "--check", env={**env, "PYTHONPATH": f"{blocker}{os.pathsep}{site}"})
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert "--check needs onnxruntime" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
