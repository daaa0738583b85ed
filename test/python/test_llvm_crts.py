"""The LLVM IR output for SW26010-Pro (CRTS) and on several core groups (issue 11, items 1, 2 and 4): model_slave.ll
calls the CRTS API (CRTS_dma_iget / iput[_stride] with reply words, CRTS_dma_wait_value, CRTS_ssync_array), as the
C of that target does, model_host.ll CRTS_init and the Pro spawn; `--cgs N` through the LLVM IR (athread_init_cgs,
__real_athread_spawn_cgs, the kernels' CG through CRTS_cgn); LeNet, an MLP and a transformer block built with the
wheels' llc against the emulator and matched with onnxruntime, with the same DMA requests as the C build; the
emulator's tensor and LDM-array checks active on the LLVM build (registrations as in the emitted C)."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

import swmlir
from swmlir import llvmir, runtime
from swmlir.cli import onnxruntime_outputs
from swmlir.targets import TARGETS
from swmlir.testing import networks

pytestmark = pytest.mark.usefixtures("runtime_cache")

RTOL, ATOL = 1e-4, 1e-5
ERROR = "swmlir-emulator: error:"
NETWORKS = {"lenet": lambda: networks.lenet(batch=2), "mlp": lambda: networks.mlp(batch=3, sizes=(37, 19, 5)),
            "transformer": lambda: networks.transformer_encoder(seq=16, hidden=32, heads=2, ffn=64)}
KEYS = ("kernel", "get_requests", "put_requests", "get_bytes", "put_bytes", "block_sizes", "active_cpes")


def _feeds(m, seed=5):
    rng = np.random.default_rng(seed)
    return {t.name: rng.standard_normal(t.shape).astype(t.dtype) for t in m.info.inputs}


def _declares(text: str) -> set[str]:
    return {re.search(r"@([\w.$]+)\(", line).group(1) for line in text.splitlines()
            if line.startswith("declare ")}


def _run_both(m, feeds, tmp_path):
    """Outputs and emulator counters of the C build and of the LLVM build."""
    outs, stats = {}, {}
    for via in ("c", "llvm"):
        path = tmp_path / f"{via}.json"
        outs[via] = m.run(feeds, via=via, stats_json=str(path))
        stats[via] = json.loads(path.read_text())
    return outs, stats


def _check_calls_crts(m, cgs: int) -> None:
    slave, host = _declares(m.files[llvmir.SLAVE_LL]), _declares(m.files[llvmir.HOST_LL])
    assert {"CRTS_dma_iget", "CRTS_dma_iput", "CRTS_dma_wait_value", "swmlir_llvm_crts_tid",
            "swmlir_llvm_ldm_array"} <= slave, slave
    assert not {n for n in slave if n.startswith("athread")}, slave   # no athread call left in the kernels
    assert "swmlir_llvm_register_tensor" in host
    assert "athread_halt" not in host   # an empty macro on Pro
    if cgs > 1:
        assert {"athread_init_cgs", "CRTS_init", "__real_athread_spawn_cgs", "athread_join_cgs"} <= host, host
        assert "swmlir_llvm_crts_cgn" in slave
        assert "declare i32 @__real_athread_spawn_cgs(ptr, ptr, i32)" in m.files[llvmir.HOST_LL]
    else:
        assert {"CRTS_init", "__real_athread_spawn", "athread_join"} <= host, host
        assert "athread_init" not in host and "athread_init_cgs" not in host
        assert "declare i32 @__real_athread_spawn(ptr, ptr, i32)" in m.files[llvmir.HOST_LL]
    # the C of the same target calls the same API
    assert "CRTS_dma_iget" in m.files["model_slave.c"] and "athread_get(" not in m.files["model_slave.c"]


@pytest.mark.parametrize("name,cgs", [("lenet", 1), ("mlp", 1), ("transformer", 1), ("transformer", 6)])
def test_sw26010pro_networks_through_llvm_match_onnxruntime(name, cgs, tmp_path):
    model = NETWORKS[name]()
    with swmlir.compile(model, "sw26010pro", llvm=True, cgs=cgs) as m:
        assert m.target.cgs == cgs and m.target.runtime_api == "crts"
        _check_calls_crts(m, cgs)
        feeds = _feeds(m)
        outs, stats = _run_both(m, feeds, tmp_path)
        ref = onnxruntime_outputs(model, feeds)
        assert len(outs["llvm"]) == len(ref)
        for g, c, r in zip(outs["llvm"], outs["c"], ref):
            assert g.shape == r.shape
            np.testing.assert_allclose(g, r, rtol=RTOL, atol=ATOL)
            np.testing.assert_array_equal(g, c)   # the same kernels as the C: the same floats
        launches = {via: [{k: ln[k] for k in KEYS} for ln in s["launches"]] for via, s in stats.items()}
        assert launches["llvm"] == launches["c"] and len(launches["llvm"]) == len(m.kernels)
        for ln in stats["llvm"]["launches"]:
            assert ln["ldm_peak_bytes"] <= m.target.ldm_bytes
            if cgs > 1:   # one record per core group, as the C build's
                assert len(ln["cgs"]) == cgs
                assert sum(g["get_bytes"] for g in ln["cgs"]) == ln["get_bytes"]


def test_sw26010_on_four_cgs_through_llvm(tmp_path):
    """athread on several core groups (the emulator's form; SW26010 has one MPI rank per CG on the machine): the
    kernels read their CG with swmlir_llvm_cg_id, the host spawns with __real_athread_spawn_cgs."""
    model = NETWORKS["mlp"]()
    with swmlir.compile(model, "sw26010", llvm=True, cgs=4) as m:
        slave, host = _declares(m.files[llvmir.SLAVE_LL]), _declares(m.files[llvmir.HOST_LL])
        assert {"athread_get", "athread_put", "swmlir_llvm_cg_id"} <= slave and "CRTS_dma_iget" not in slave
        assert {"athread_init_cgs", "__real_athread_spawn_cgs", "athread_join_cgs", "athread_halt"} <= host
        feeds = _feeds(m)
        outs, stats = _run_both(m, feeds, tmp_path)
        for g, c, r in zip(outs["llvm"], outs["c"], onnxruntime_outputs(model, feeds)):
            np.testing.assert_allclose(g, r, rtol=RTOL, atol=ATOL)
            np.testing.assert_array_equal(g, c)
        assert all(len(ln["cgs"]) == 4 for ln in stats["llvm"]["launches"])


def test_shared_tiles_through_rma_in_llvm_ir(tmp_path):
    """The mesh allgather under CRTS (RMA row/column broadcasts, swmlir_llvm_mesh_allgather built with
    -DSWMLIR_CRTS): sunway-share-tiles runs where the schedule costs register communication (sw26010), so a twin of
    sw26010 that emits CRTS, as test_crts does for the C: the LLVM build gives onnxruntime's result with the C
    build's counters, RMA bytes and barriers included."""
    twin = dataclasses.replace(TARGETS["sw26010"], name="sw26010-crts-twin-llvm", runtime_api="crts")
    model = networks.matmul(256, 256, 256)
    x = np.random.default_rng(4).standard_normal((256, 256)).astype(np.float32)
    with swmlir.compile(model, twin, llvm=True) as m:
        slave = m.files[llvmir.SLAVE_LL]
        assert slave.count("call void @swmlir_llvm_mesh_allgather(") >= 2, "the schedule no longer shares tiles"
        assert "CRTS_dma_iget" in slave and "@athread_get(" not in slave
        outs, stats = _run_both(m, {"x": x}, tmp_path)
    np.testing.assert_allclose(outs["llvm"][0], onnxruntime_outputs(model, {"x": x})[0], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(outs["llvm"][0], outs["c"][0])
    totals = {via: s["totals"] for via, s in stats.items()}
    for k in ("get_requests", "get_bytes", "put_bytes", "mesh_bytes", "syncs"):
        assert totals["llvm"][k] == totals["c"][k], k
    assert totals["llvm"]["mesh_bytes"] > 0 and totals["llvm"]["syncs"] > 0


def test_cli_run_via_llvm_on_all_cgs_of_sw26010pro(tmp_path):
    path = tmp_path / "mlp.onnx"
    onnx.save(NETWORKS["mlp"](), str(path))
    p = subprocess.run([sys.executable, "-m", "swmlir.cli", "run", str(path), "--target", "sw26010pro", "--cgs", "all",
                        "--via", "llvm", "--check"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ran the LLVM IR output" in p.stdout and "OK" in p.stdout and "MISMATCH" not in p.stdout
    out = tmp_path / "pkg"
    p = subprocess.run([sys.executable, "-m", "swmlir.cli", "compile", str(path), "--target", "sw26010pro",
                        "--emit", "llvm", "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    readme = (out / "README.md").read_text()
    assert "CRTS_dma_iget" in readme and "-DSWMLIR_CRTS" in readme
    assert (out / "runtime" / llvmir.HOST_HELPERS_C).is_file()


# ---------------------------------------------------------------------------------------------------------------------
# The emulator's checks on the LLVM build: kernel 0 of a small MLP (x 2x20, w0_T 16x20 = the weights' first 1280 bytes,
# then the bias) fetches a row of x and a row of w0_T, 80 bytes each, into two LDM arrays. Making the second get 84
# bytes overflows its LDM array; making the array 84 bytes too, the last row's get runs past weight w0_T.
# ---------------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlp_llvm_package(tmp_path_factory):
    d = tmp_path_factory.mktemp("mlp_llvm")
    m = swmlir.compile(networks.mlp(batch=2, sizes=(20, 16, 4)), "sw26010pro", llvm=True)
    m.save(str(d))
    np.random.default_rng(0).standard_normal((2, 20)).astype(np.float32).tofile(d / "in0.bin")
    return d, m


def _edited_run(src: Path, dst: Path, m, edit) -> subprocess.CompletedProcess:
    shutil.copytree(src, dst)
    ll = dst / llvmir.SLAVE_LL
    ll.write_text(edit(ll.read_text()))
    exe = llvmir.build_emulated_executable(str(dst), ldm_bytes=m.target.ldm_bytes, crts=True)
    return subprocess.run([exe, str(dst / "model.weights.bin"), str(dst / "in0.bin"), str(dst / "out.bin")],
                          capture_output=True, text=True, timeout=120)


def _second_get_of_kernel0(text: str, *, array_too: bool) -> str:
    start = text.index("define internal void @main_k0")
    gets = list(re.finditer(r"call i32 @CRTS_dma_iget\(ptr (%\d+), ptr %\d+, i32 80,", text[start:]))
    assert len(gets) >= 2, text[start:start + 3000]
    g = gets[1]
    body = text[start:]
    body = body[:g.start()] + g.group(0).replace("i32 80,", "i32 84,") + body[g.end():]
    if array_too:   # the record of that LDM array: swmlir_llvm_ldm_array(<its pointer>, 80, name)
        body, n = re.subn(rf"swmlir_llvm_ldm_array\(ptr {re.escape(g.group(1))}, i64 80,",
                          f"swmlir_llvm_ldm_array(ptr {g.group(1)}, i64 84,", body, count=1)
        assert n == 1
    return text[:start] + body


def test_llvm_build_registers_ldm_arrays(mlp_llvm_package, tmp_path):
    d, m = mlp_llvm_package
    slave = (d / llvmir.SLAVE_LL).read_text()
    assert re.search(r'@swmlir_ldm_name_\d+ = internal constant \[\d+ x i8\] c"ldm1 \(1x20xf32\)\\00"', slave)
    p = _edited_run(d, tmp_path / "ldm", m, lambda t: _second_get_of_kernel0(t, array_too=False))
    assert p.returncode == runtime.EMULATOR_EXIT_CODE, p.stderr
    line = next(ln for ln in p.stderr.splitlines() if ln.startswith(ERROR))
    assert re.search(r"kernel 'main_k0\w*' \(launch 0\), CPE \d+, CRTS_dma_iget: LDM range \[0x[0-9a-f]+,\+84\) "
                     r"starts at byte 0 of LDM array ldm1 \(1x20xf32\) \[0x[0-9a-f]+,\+80\) and runs 4 bytes past its "
                     r"end", line), line


def test_llvm_build_registers_tensors(mlp_llvm_package, tmp_path):
    d, m = mlp_llvm_package
    host = (d / llvmir.HOST_LL).read_text()
    for name in ("input 0 (2x20xf32)", "weight w0_T", "the kernel arguments"):
        assert f'c"{name}\\00"' in host
    p = _edited_run(d, tmp_path / "tensor", m, lambda t: _second_get_of_kernel0(t, array_too=True))
    assert p.returncode == runtime.EMULATOR_EXIT_CODE, p.stderr
    line = next(ln for ln in p.stderr.splitlines() if ln.startswith(ERROR))
    assert re.search(r"CPE \d+, CRTS_dma_iget: main-memory range \[0x[0-9a-f]+,\+84\) starts at byte 1200 of weight "
                     r"w0_T \[0x[0-9a-f]+,\+1280\) and runs 4 bytes past its end, into weight constant_16xf32",
                     line), line
    # unedited, the same build runs clean
    exe = llvmir.build_emulated_executable(str(d), ldm_bytes=m.target.ldm_bytes, crts=True)
    ok = subprocess.run([exe, str(d / "model.weights.bin"), str(d / "in0.bin"), str(d / "out.bin")],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
