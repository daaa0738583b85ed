"""CRTS, the runtime API of SW26010-Pro (issue 11, item 1): what sw26010pro's emitted C calls, its results on the
emulator against onnxruntime, the emulator's CRTS API (checked DMA, reply words, barriers, RMA between CPE LDMs,
counters alike those of athread), and the RMA form of the mesh allgather."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest

import swmlir
from swmlir.testing import networks
from swmlir import runtime
from swmlir.cli import onnxruntime_outputs
from swmlir.targets import TARGETS

ERROR = "swmlir-emulator: error:"


pytestmark = pytest.mark.usefixtures("runtime_cache")


def conv_model(n=1, c=8, h=20, w=20, f=16) -> onnx.ModelProto:
    return networks.conv_relu(n, c, h, w, f)


def matmul_model(m=128, k=96, n=64) -> onnx.ModelProto:
    return networks.matmul(m, k, n)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "swmlir.cli", *args], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])


# ------------------------------------------------------------------------------------ sw26010pro end to end
@pytest.mark.parametrize("name,make", [("conv", conv_model), ("matmul", matmul_model)])
def test_sw26010pro_runs_crts_c_matching_onnxruntime(name, make, tmp_path):
    """`swmlir run M --target sw26010pro --check`: the emitted CRTS C on the emulator against onnxruntime."""
    path = tmp_path / f"{name}.onnx"
    onnx.save(make(), str(path))
    p = cli("run", str(path), "--target", "sw26010pro", "--check")
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"check y: max \|swmlir - onnxruntime\| = \S+ \(OK", p.stdout + p.stderr), p.stdout + p.stderr


@pytest.fixture(scope="module")
def pro_conv():
    return swmlir.compile(conv_model(), "sw26010pro")


def test_sw26010pro_kernels_read_as_crts_code(pro_conv):
    """The kernels call CRTS (ids, DMA on crts_rply_t words, waits) and nothing of the athread slave API; the host
    includes crts.h and starts the CPEs with CRTS_init; both match onnxruntime (the C path, run here)."""
    slave = pro_conv.files["model_slave.c"]
    host = pro_conv.files["model_host.c"]
    assert "#define SWMLIR_CRTS 1" in slave and "#include <crts.h>" in slave and "<slave.h>" not in slave
    for call in ("CRTS_tid", "crts_rply_t", "CRTS_dma_iget(", "CRTS_dma_iget_stride(", "CRTS_dma_iput_stride(",
                 "CRTS_dma_wait_value("):
        assert call in slave, call
    for old in ("athread_get", "athread_put", "athread_syn", "swmlir_dma_wait", "PE_MODE"):
        assert old not in slave, old
    # every wait resets its reply word for the next requests
    waits = re.findall(r"CRTS_dma_wait_value\((v\d+), \d+\);\n\s*(v\d+) = 0;", slave)
    assert waits and len(waits) == slave.count("CRTS_dma_wait_value(") - 1   # the entry's word is not reused
    # the entry fetches its argument struct by CRTS DMA
    assert re.search(r"CRTS_dma_iget\(v\d+, v1, sizeof\(struct main_k0_\w+_args\), v\d+\);\n"
                     r"\s*CRTS_dma_wait_value\(v\d+, 1\);", slave), slave[-2000:]
    assert "#include <crts.h>" in host and "<athread.h>" not in host
    assert "CRTS_init();" in host and "athread_init" not in host
    assert "athread_spawn(main_k0_" in host and "athread_join();" in host
    x = np.random.default_rng(2).standard_normal((1, 8, 20, 20)).astype(np.float32)
    np.testing.assert_allclose(pro_conv.run({"x": x})[0], onnxruntime_outputs(conv_model(), {"x": x})[0],
                               rtol=1e-4, atol=1e-4)


def test_sw26010pro_makefile_is_swgcc_hybrid(pro_conv, tmp_path):
    pro_conv.save(str(tmp_path))
    mk = (tmp_path / "Makefile").read_text()
    assert "CC_HOST  = swgcc -mhost" in mk and "CC_SLAVE = swgcc -mslave" in mk and "CC_LINK  = swgcc -mhybrid" in mk
    assert re.search(r"CFLAGS_SLAVE = .*-msimd .*-faddress_align=64", mk)
    assert re.search(r"CFLAGS_HOST  = .*-faddress_align=128", mk)
    assert "-lm_slave" in mk and "crts.h" in mk
    assert (tmp_path / "runtime" / "emulator" / "crts.h").exists()


def test_sw26010_keeps_athread(tmp_path):
    m = swmlir.compile(matmul_model(), "sw26010")
    slave, host = m.files["model_slave.c"], m.files["model_host.c"]
    assert "athread_get(PE_MODE" in slave and "CRTS_" not in slave and "crts" not in slave
    assert "athread_init();" in host and "CRTS_init" not in host


def test_same_counters_as_the_athread_api(tmp_path):
    """The same kernels through CRTS or athread (sw26010pro, and a twin of it with runtime_api athread): the same
    results and the same DMA counters (requests, bytes, block sizes) per launch, so the same modeled figures."""
    twin = dataclasses.replace(TARGETS["sw26010pro"], name="sw26010pro-athread-twin", runtime_api="athread")
    x = np.random.default_rng(3).standard_normal((128, 96)).astype(np.float32)
    runs = {}
    for tgt in ("sw26010pro", twin):
        m = swmlir.compile(matmul_model(), tgt)
        stats = tmp_path / f"{m.target.name}.json"
        runs[m.target.name] = (m.run({"x": x}, stats_json=str(stats))[0], json.loads(stats.read_text()))
        assert ("CRTS_dma_iget" in m.files["model_slave.c"]) == (m.target.runtime_api == "crts")
    (a, sa), (b, sb) = runs.values()
    np.testing.assert_array_equal(a, b)
    keys = ("get_requests", "put_requests", "get_bytes", "put_bytes", "block_sizes", "syncs", "mesh_bytes",
            "max_cpe_dma_bytes", "active_cpes")
    assert len(sa["launches"]) == len(sb["launches"])
    for la, lb in zip(sa["launches"], sb["launches"]):
        assert {k: la[k] for k in keys} == {k: lb[k] for k in keys}


def test_shared_tiles_through_rma_match_onnxruntime(tmp_path):
    """sunway-share-tiles runs only where the schedule costs register communication (sw26010); the RMA allgather
    of CRTS is checked on a twin of sw26010 that emits CRTS: the tiles shared over rows and columns by
    CRTS_rma_row/col_ibcast give onnxruntime's result, and the same gets as register communication (the RMA
    form adds one row or column barrier per allgather)."""
    twin = dataclasses.replace(TARGETS["sw26010"], name="sw26010-crts-twin", runtime_api="crts")
    model = matmul_model(256, 256, 256)
    x = np.random.default_rng(4).standard_normal((256, 256)).astype(np.float32)
    ref = onnxruntime_outputs(model, {"x": x})[0]
    got = {}
    for tgt in ("sw26010", twin):
        m = swmlir.compile(model, tgt)
        slave = m.files["model_slave.c"]
        assert slave.count("swmlir_mesh_allgather(") >= 2, "the schedule no longer shares this matmul's tiles"
        stats = tmp_path / f"{m.target.name}.json"
        y = m.run({"x": x}, stats_json=str(stats))[0]
        np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
        got[m.target.runtime_api] = json.loads(stats.read_text())["totals"]
    rma, rlc = got["crts"], got["athread"]
    # the gets and their sharing are the same; the puts are not: on athread sunway-gather-put-rows regroups the
    # output tiles into whole rows by register communication first (no CRTS form of that op yet)
    for k in ("get_requests", "get_bytes", "put_bytes"):
        assert rma[k] == rlc[k], k
    assert rma["mesh_bytes"] > 0 and rlc["mesh_bytes"] > rma["mesh_bytes"]
    assert rlc["syncs"] == 0 and rma["syncs"] > 0


# ------------------------------------------------------------------------------------ the emulator's CRTS API
def _write(d: Path, name: str, text: str) -> str:
    p = d / name
    p.write_text(textwrap.dedent(text))
    return str(p)


def _build(d: Path, host: str, slave: str, ldm_bytes=262144) -> str:
    d.mkdir(parents=True, exist_ok=True)
    return runtime.build_emulated_executable(str(d), [_write(d, "host.c", host)], [_write(d, "kernels.c", slave)],
                                             ldm_bytes=ldm_bytes, driver=False, opt="-O1")


def _run(exe: str, *args, stats: Path | None = None):
    env = dict(os.environ)
    env.pop("SWMLIR_EMU_STATS", None)
    if stats is not None:
        env["SWMLIR_EMU_STATS"] = str(stats)
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=120, env=env)


CRTS_HOST = """
    #include <stdio.h>
    #include <stdlib.h>
    #include <crts.h>
    #include "swmlir_runtime.h"
    extern void SLAVE_FUN(k)(void *);
    struct args { float *a, *b; int mode; };
    #define M 64
    #define N 128

    int main(int argc, char **argv)
    {
        struct args g;
        int i, j, bad = 0;
        g.a = swmlir_alloc(sizeof(float) * M * N);
        g.b = swmlir_alloc(sizeof(float) * M * N);
        g.mode = argc > 1 ? atoi(argv[1]) : 0;
        for (i = 0; i < M * N; i++)
            g.a[i] = (float)i;
        if (CRTS_init() != 0)
            return 1;
        athread_spawn(k, &g);
        athread_join();
        /* b = 2 a + (sum over the CPE's mesh row of the row ids + sum over its column of the column ids) */
        for (i = 0; i < M; i++)
            for (j = 0; j < N; j++) {
                int cpe = (i / 8) * 8 + j / 16, row = cpe >> 3, col = cpe & 7;
                float want = 2.0f * g.a[i * N + j] + 8 * row + 8 * col;
                bad += g.b[i * N + j] != want;
            }
        printf("bad=%d\\n", bad);
        athread_halt();
        return 0;
    }
"""

# CPE t owns the 8 x 16 tile (8 * (t / 8), 16 * (t % 8)) of a 64 x 128 matrix: one strided get, a contiguous
# get/put of a scratch row through ldm_malloc, a strided put; RMA broadcasts of its row id over its row and of
# its column id over its column (every CPE then holds 8 of each), barriers of the three kinds.
CRTS_SLAVE = """
    #define SWMLIR_CRTS 1
    #include <crts.h>
    #include "swmlir_slave.h"
    struct args { float *a, *b; int mode; };
    #if defined(SWMLIR_EMULATOR) && defined(SWMLIR_SLAVE)
    #define k slave_k
    #endif
    #define N 128

    static __thread_local_fix crts_rply_t recv;
    static __thread_local_fix int rows[8], cols[8];

    void k(void *arg)
    {
        struct args a;
        crts_rply_t r = 0, sent = 0;
        float tile[8][16], *line;
        int t = CRTS_tid, i, j, extra = 0;
        CRTS_dma_iget(&a, arg, sizeof a, &r);
        CRTS_dma_wait_value(&r, 1);
        r = 0;
        float *src = a.a + 8 * CRTS_rid * N + 16 * CRTS_cid, *dst = a.b + (src - a.a);
        if (t != 8 * CRTS_rid + CRTS_cid)
            return;
        CRTS_dma_iget_stride(tile, src, sizeof tile, 16 * 4, (N - 16) * 4, &r);
        CRTS_dma_wait_value(&r, 1);
        r = 0;
        line = (float *)CRTS_pldm_malloc(16 * 4);
        CRTS_dma_iget(line, src, 16 * 4, &r);       /* the tile's first row again, contiguous */
        CRTS_dma_wait_value(&r, 1);
        r = 0;
        for (j = 0; j < 16; j++)
            extra += line[j] != tile[0][j];
        CRTS_pldm_free(line, 16 * 4);
        recv = 0;
        CRTS_ssync_array();
        rows[CRTS_cid] = CRTS_rid;
        cols[CRTS_rid] = CRTS_cid;
        CRTS_ssync_row();
        CRTS_rma_row_ibcast(&rows[CRTS_cid], &rows[CRTS_cid], sizeof(int), &sent, &recv);
        CRTS_rma_wait_value(&sent, 1);
        CRTS_rma_wait_value(&recv, 8);
        recv = 0;
        sent = 0;
        CRTS_ssync_col();
        CRTS_rma_col_ibcast(&cols[CRTS_rid], &cols[CRTS_rid], sizeof(int), &sent, &recv);
        CRTS_rma_wait_value(&sent, 1);
        CRTS_rma_wait_value(&recv, 8);
        for (i = 0; i < 8; i++)
            extra += rows[i] + cols[i];
        for (i = 0; i < 8; i++)
            for (j = 0; j < 16; j++)
                tile[i][j] = 2.0f * tile[i][j] + (float)extra;
        if (a.mode == 1)
            CRTS_dma_wait_value(&r, 1);                  /* nothing issued on r: would spin forever */
        if (a.mode == 2)
            CRTS_dma_iput_stride(dst + 8, tile, sizeof tile, 16 * 4, (N - 16) * 4, &r);  /* CPE 63: past the end */
        if (a.mode == 3 && t != 0)
            CRTS_rma_wait_value(&recv, 9);               /* one broadcast more than the column sends */
        CRTS_dma_iput_stride(dst, tile, sizeof tile, 16 * 4, (N - 16) * 4, &r);
        CRTS_dma_wait_value(&r, 1);
    }
"""


@pytest.fixture(scope="module")
def crts_exe(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("crts"), CRTS_HOST, CRTS_SLAVE)


def test_emulated_crts_api_results_and_counters(crts_exe, tmp_path):
    stats = tmp_path / "stats.json"
    p = _run(crts_exe, 0, stats=stats)
    assert p.returncode == 0, p.stderr
    assert "bad=0" in p.stdout
    (l,) = json.loads(stats.read_text())["launches"]
    assert l["kernel"] == "k" and l["active_cpes"] == 64
    assert (l["get_requests"], l["put_requests"]) == (3 * 64, 64)
    assert l["get_bytes"] == 64 * (24 + 512 + 64) and l["put_bytes"] == 64 * 512
    assert l["block_sizes"] == {"24": 64, "64": 64 + 8 * 64 * 2}   # args; the row; 8 rows in, 8 rows out
    assert l["syncs"] == 3 * 64
    assert l["mesh_bytes"] == 64 * 2 * 7 * 4                          # 7 peers' ints, over the row and the column


@pytest.mark.parametrize("mode,call,words", [
    (1, "CRTS_dma_wait_value", ["reach 1 but it holds 0", "spin forever"]),
    (2, "CRTS_dma_iput_stride", ["CPE 63,", "runs 32 bytes past the end of the registered buffer"]),
    (3, None, ["deadlock", "RMA data"]),
])
def test_emulated_crts_errors(crts_exe, mode, call, words):
    p = _run(crts_exe, mode)
    assert p.returncode == runtime.EMULATOR_EXIT_CODE, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith(ERROR)]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith(f"{ERROR} kernel 'k' (launch 0), CPE ")
    if call:
        assert f", {call}: " in lines[0]
    for w in words:
        assert w in lines[0], lines[0]
