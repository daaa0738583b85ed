"""The athread host emulator (swmlir/runtime): results, exact counters, the errors it must catch, the driver, the
build cache. Each test builds small host + kernel C programs written the way the compiler emits them."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from swmlir import runtime

pytestmark = pytest.mark.skipif(not (shutil.which("gcc") or shutil.which("cc")), reason="needs a C compiler")

ERROR = "swmlir-emulator: error:"


pytestmark = [pytestmark, pytest.mark.usefixtures("runtime_cache")]


def write(d: Path, name: str, text: str) -> str:
    p = d / name
    p.write_text(textwrap.dedent(text))
    return str(p)


def build(d: Path, host: str, slave: str, *, ldm_bytes=65536, driver=False, headers=None, **kw) -> str:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in (headers or {}).items():
        write(d, name, text)
    return runtime.build_emulated_executable(str(d), [write(d, "host.c", host)], [write(d, "kernels.c", slave)],
                                             ldm_bytes=ldm_bytes, driver=driver, opt="-O1", **kw)


def run(exe: str, *args, stats: Path | None = None, env=None):
    e = dict(os.environ)
    e.pop("SWMLIR_EMU_STATS", None)
    if stats is not None:
        e["SWMLIR_EMU_STATS"] = str(stats)
    e.update(env or {})
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=60, env=e)


def error_line(stderr: str) -> str:
    lines = [l for l in stderr.splitlines() if l.startswith(ERROR)]
    assert len(lines) == 1, stderr
    return lines[0]


# The kernel-side prologue the compiler emits: on the emulator the slave symbol of kernel k is slave_k.
# FETCH_ARGS: how a kernel reads its argument struct, by one DMA into LDM as the compiler's kernel entries do
# (passes/emitc_kernel_entries.py): main memory, the struct included, is closed to direct loads while a kernel runs.
def rename(*kernels: str) -> str:
    defs = "\n".join(f"#define {k} slave_{k}" for k in kernels)
    fetch = ("#define FETCH_ARGS(T, a, arg) T a; { volatile int r_ = 0; "
             "athread_get(PE_MODE, (arg), &a, sizeof a, (void *)&r_, 0, 0, 0); swmlir_dma_wait(&r_, 1); }")
    return f"#if defined(SWMLIR_EMULATOR) && defined(SWMLIR_SLAVE)\n{defs}\n#endif\n{fetch}\n"


# ---------------------------------------------------------------------------------------------------------------------
# A strided 2-D tile copy + scale over the 8x8 CPEs; an ldm_malloc kernel; a __thread_local kernel.
# ---------------------------------------------------------------------------------------------------------------------

TILE_ARGS = """
    #define M 64
    #define N 128
    #define TR 8   /* tile rows: CPE row r takes rows r*TR.. */
    #define TC 16  /* tile cols: CPE col c takes cols c*TC.. */
    #define LOCAL_FLOATS 4096 /* 16 KB local array */
    struct args { void *in, *out, *params; };
"""

TILE_HOST = """
    #include <stdio.h>
    #include <athread.h>
    #include "swmlir_runtime.h"
    #include "args.h"
    extern void SLAVE_FUN(tile_scale)(void *);
    extern void SLAVE_FUN(heap_copy)(void *);
    extern void SLAVE_FUN(tls_copy)(void *);

    int main(void)
    {
        float *in = swmlir_alloc(M * N * 4), *out = swmlir_alloc(M * N * 4), *params = swmlir_alloc(32);
        struct args a;
        int i, bad = 0, launch;

        for (i = 0; i < M * N; i++) in[i] = (float)i;
        params[0] = 2.0f; params[1] = 0.5f;
        a.in = in; a.out = out; a.params = params;
        athread_init();
        for (launch = 0; launch < 2; launch++) {
            athread_spawn(tile_scale, &a);
            athread_join();
        }
        for (i = 0; i < M * N; i++) bad += out[i] != in[i] * 2.0f + 0.5f;
        athread_spawn(heap_copy, &a);
        athread_join();
        athread_spawn(tls_copy, &a);
        athread_join();
        for (i = 0; i < M * N; i++) bad += out[i] != in[i] + 1.0f;
        athread_halt();
        printf("bad=%d\\n", bad);
        swmlir_free(in); swmlir_free(out); swmlir_free(params);
        return bad != 0;
    }
"""

TILE_SLAVE = """
    #include <slave.h>
    #include "swmlir_slave.h"
    #include "args.h"
    """ + rename("tile_scale", "heap_copy", "tls_copy") + """
    void tile_scale(void *arg)
    {
        FETCH_ARGS(struct args, args, arg);
        struct args *a = &args;
        int id = athread_get_id(-1), r = id >> 3, c = id & 7, i;
        float tile[LOCAL_FLOATS];
        float params[8];
        volatile int reply = 0;
        float *in = (float *)a->in + r * TR * N + c * TC, *out = (float *)a->out + r * TR * N + c * TC;

        athread_get(PE_MODE, a->params, params, sizeof params, (void *)&reply, 0, 0, 0);
        swmlir_dma_wait(&reply, 1);
        athread_get(PE_MODE, in, tile, TR * TC * 4, (void *)&reply, 0, (N - TC) * 4, TC * 4);
        swmlir_dma_wait(&reply, 1);
        for (i = 0; i < TR * TC; i++) tile[i] = tile[i] * params[0] + params[1];
        athread_put(PE_MODE, tile, out, TR * TC * 4, (void *)&reply, (N - TC) * 4, TC * 4);
        swmlir_dma_wait(&reply, 1);
    }

    /* Rows of the matrix, one contiguous DMA each, through a 20 KB ldm_malloc block. */
    void heap_copy(void *arg)
    {
        FETCH_ARGS(struct args, args, arg);
        struct args *a = &args;
        int id = _MYID, i;
        float *buf = (float *)ldm_malloc(20 * 1024);
        volatile int reply = 0;

        athread_get(PE_MODE, (float *)a->in + id * N, buf, N * 4, (void *)&reply, 0, 0, 0);
        swmlir_dma_wait(&reply, 1);
        for (i = 0; i < N; i++) buf[i] += 1.0f;
        athread_put(PE_MODE, buf, (float *)a->out + id * N, N * 4, (void *)&reply, 0, 0);
        swmlir_dma_wait(&reply, 1);
        ldm_free(buf, 20 * 1024);
    }

    /* Same through __thread_local data (LDM on the machine), with a __thread_local reply word. */
    __thread_local float tls_buf[N];
    __thread_local volatile int tls_reply;
    void tls_copy(void *arg)
    {
        FETCH_ARGS(struct args, args, arg);
        struct args *a = &args;
        int id = _MYID, i;

        tls_reply = 0;
        athread_get(PE_MODE, (float *)a->in + id * N, tls_buf, N * 4, (void *)&tls_reply, 0, 0, 0);
        swmlir_dma_wait(&tls_reply, 1);
        for (i = 0; i < N; i++) tls_buf[i] += 1.0f;
        athread_put(PE_MODE, tls_buf, (float *)a->out + id * N, N * 4, (void *)&tls_reply, 0, 0);
        swmlir_dma_wait(&tls_reply, 1);
    }
"""


@pytest.fixture(scope="module")
def tile_exe(tmp_path_factory):
    d = tmp_path_factory.mktemp("tile")
    return build(d, TILE_HOST, TILE_SLAVE, headers={"args.h": TILE_ARGS})


def test_strided_tiles_results_and_exact_counters(tile_exe, tmp_path):
    stats = tmp_path / "stats.json"
    p = run(tile_exe, stats=stats)
    assert p.returncode == 0, p.stderr
    assert "bad=0" in p.stdout
    s = json.loads(stats.read_text())
    launches = s["launches"]
    assert [(l["kernel"], l["launch"]) for l in launches] == [
        ("tile_scale", 0), ("tile_scale", 1), ("heap_copy", 2), ("tls_copy", 3)]

    tile_bytes = 8 * 16 * 4
    arg = 24  # every CPE fetches the 24-byte argument struct by one DMA
    for l in launches[:2]:
        assert l["get_requests"] == 64 + 128 and l["put_requests"] == 64
        assert l["get_bytes"] == 64 * (arg + 32 + tile_bytes) and l["put_bytes"] == 64 * tile_bytes
        # strided: 8 blocks of 64 B per request (get and put); the params get is one 32-B block
        assert l["block_sizes"] == {"24": 64, "32": 64, "64": 64 * 8 * 2}
        assert l["syncs"] == 0
        assert 4096 * 4 <= l["ldm_peak_bytes"] <= 4096 * 4 + 1024  # the 16 KB local array + a small frame

    heap, tls = launches[2], launches[3]
    for l in (heap, tls):
        assert (l["get_requests"], l["put_requests"]) == (64 + 64, 64)
        assert l["get_bytes"] - 64 * arg == l["put_bytes"] == 64 * 128 * 4
        assert l["block_sizes"] == {"24": 64, "512": 128}
    assert 20 * 1024 <= heap["ldm_peak_bytes"] <= 20 * 1024 + 1024
    assert 512 <= tls["ldm_peak_bytes"] <= 2048  # __thread_local data counts as LDM

    t = s["totals"]
    assert t["launches"] == 4
    assert t["get_requests"] == 4 * 64 + 2 * 128 + 2 * 64 and t["put_requests"] == 4 * 64
    assert t["block_sizes"] == {"24": 4 * 64, "32": 128, "64": 2048, "512": 256}
    assert t["gld_requests"] == t["gst_requests"] == t["gld_bytes"] == t["gst_bytes"] == 0
    assert s["direct_access"] == "guarded"
    assert t["ldm_peak_bytes"] == max(l["ldm_peak_bytes"] for l in launches)
    assert s["ldm_bytes"] == 65536


# ---------------------------------------------------------------------------------------------------------------------
# Barriers
# ---------------------------------------------------------------------------------------------------------------------

SYN_HOST = """
    #include <stdio.h>
    #include <athread.h>
    #include "swmlir_runtime.h"
    extern void SLAVE_FUN(neighbours)(void *);
    struct args { int *buf, *next, *row_next, *col_next; };

    int main(void)
    {
        struct args a;
        int i, bad = 0;
        a.buf = swmlir_alloc(3 * 64 * 4); a.next = swmlir_alloc(64 * 4);
        a.row_next = swmlir_alloc(64 * 4); a.col_next = swmlir_alloc(64 * 4);
        athread_init();
        athread_spawn(neighbours, &a);
        athread_join();
        athread_halt();
        for (i = 0; i < 64; i++) {
            int r = i >> 3, c = i & 7;
            bad += a.next[i] != 1000 + (i + 1) % 64;
            bad += a.row_next[i] != 2000 + r * 8 + (c + 1) % 8;
            bad += a.col_next[i] != 3000 + ((r + 1) % 8) * 8 + c;
        }
        printf("bad=%d\\n", bad);
        return bad != 0;
    }
"""

SYN_SLAVE = """
    #include <unistd.h>
    #include <slave.h>
    #include "swmlir_slave.h"
    struct args { int *buf, *next, *row_next, *col_next; };
    """ + rename("neighbours") + """
    /* Publish, barrier, read the neighbour's value: wrong without a working barrier (late writers sleep). */
    static void step(int *buf, int *dst, int value, int from, int scope, int mask, int id)
    {
        volatile int reply = 0;
        int v = value, got = 0;
        if (id % 7 == 3) usleep(2000);
        athread_put(PE_MODE, &v, buf + id, 4, (void *)&reply, 0, 0);
        swmlir_dma_wait(&reply, 1);
        athread_syn(scope, mask);
        athread_get(PE_MODE, buf + from, &got, 4, (void *)&reply, 0, 0, 0);
        athread_put(PE_MODE, &got, dst + id, 4, (void *)&reply, 0, 0);
        swmlir_dma_wait(&reply, 2);
    }

    void neighbours(void *arg)
    {
        FETCH_ARGS(struct args, args, arg);
        struct args *a = &args;
        int id = athread_get_id(-1), r = id >> 3, c = id & 7;
        step(a->buf, a->next, 1000 + id, (id + 1) % 64, ARRAY_SCOPE, 0xffff, id);
        step(a->buf + 64, a->row_next, 2000 + id, r * 8 + (c + 1) % 8, ROW_SCOPE, 0xff, id);
        step(a->buf + 128, a->col_next, 3000 + id, ((r + 1) % 8) * 8 + c, COL_SCOPE, 0xff, id);
    }
"""


def test_athread_syn_barriers(tmp_path):
    exe = build(tmp_path, SYN_HOST, SYN_SLAVE)
    stats = tmp_path / "stats.json"
    p = run(exe, stats=stats)
    assert p.returncode == 0, p.stderr
    assert "bad=0" in p.stdout
    l = json.loads(stats.read_text())["launches"][0]
    assert l["syncs"] == 3 * 64
    assert (l["get_requests"], l["put_requests"]) == (64 + 3 * 64, 6 * 64)
    assert l["block_sizes"] == {"32": 64, "4": 9 * 64}  # the argument struct, then the values


# ---------------------------------------------------------------------------------------------------------------------
# Errors: each case is one run of a program that does one thing wrong, selected by argv[1].
# ---------------------------------------------------------------------------------------------------------------------

BAD_HOST = """
    #include <stdlib.h>
    #include <athread.h>
    #include "swmlir_runtime.h"
    extern void SLAVE_FUN(bad)(void *);
    struct args { char *buf; int mode; };

    int main(int argc, char **argv)
    {
        struct args a;
        a.buf = swmlir_alloc(4096);
        a.mode = atoi(argv[1]);
        athread_init();
        athread_spawn(bad, &a);
        athread_join();
        athread_halt();
        return 0;
    }
"""

BAD_SLAVE = """
    #include <slave.h>
    #include "swmlir_slave.h"
    struct args { char *buf; int mode; };
    static char unregistered[4096];
    """ + rename("bad") + """
    /* Frames far larger than any LDM: the emulated CPE stack overflows into its guard page. */
    static __attribute__((noinline)) int huge_frame(int id)
    {
        volatile char huge[4 << 20];
        huge[0] = (char)id;
        return huge[0];
    }

    void bad(void *arg)
    {
        FETCH_ARGS(struct args, args, arg);
        struct args *a = &args;
        int id = athread_get_id(-1);
        char ldm[256];
        volatile int reply = 0;

        switch (a->mode) {
        case 0: /* fine */
            athread_get(PE_MODE, a->buf, ldm, 256, (void *)&reply, 0, 0, 0);
            break;
        case 1: /* 48 bytes past the end of the 4096-byte buffer */
            if (id == 5) athread_get(PE_MODE, a->buf + 4096 - 16, ldm, 64, (void *)&reply, 0, 0, 0);
            break;
        case 2: /* a global array nobody registered */
            athread_get(PE_MODE, unregistered, ldm, 64, (void *)&reply, 0, 0, 0);
            break;
        case 3: /* main-memory side in LDM */
            athread_get(PE_MODE, ldm + 128, ldm, 64, (void *)&reply, 0, 0, 0);
            break;
        case 4: /* LDM side in main memory */
            athread_get(PE_MODE, a->buf, a->buf + 1024, 64, (void *)&reply, 0, 0, 0);
            break;
        case 5:
            athread_get(BCAST_MODE, a->buf, ldm, 64, (void *)&reply, (char)0xff, 0, 0);
            break;
        case 6: /* waits for two replies, one DMA issued: hangs on the machine */
            athread_get(PE_MODE, a->buf, ldm, 64, (void *)&reply, 0, 0, 0);
            swmlir_dma_wait(&reply, 2);
            break;
        case 7:
            athread_get(PE_MODE, a->buf, ldm, 100, (void *)&reply, 0, 64, 64);
            break;
        case 8: /* CPE 0 skips the barrier */
            if (id != 0) athread_syn(ARRAY_SCOPE, 0xffff);
            break;
        case 9: /* strided: the last block ends past the buffer (pitch 1024: 4 blocks of 64 B span 3*1024 + 64) */
            athread_get(PE_MODE, a->buf + 1024, ldm, 256, (void *)&reply, 0, 1024 - 64, 64);
            break;
        case 11:
            a->mode += huge_frame(id);
            break;
        case 10: /* DMA past the end of an ldm_malloc block */
            {
                char *h = (char *)ldm_malloc(100);
                athread_get(PE_MODE, a->buf, h, 128, (void *)&reply, 0, 0, 0);
            }
            break;
        }
    }
"""


@pytest.fixture(scope="module")
def bad_exe(tmp_path_factory):
    return build(tmp_path_factory.mktemp("bad"), BAD_HOST, BAD_SLAVE)


@pytest.mark.parametrize("mode, call, cpe, words", [
    (1, "athread_get", 5, ["runs 48 bytes past the end of the registered buffer", "+4096)"]),
    (2, "athread_get", None, ["outside every registered buffer"]),
    (3, "athread_get", None, ["main-memory range", "points into the LDM of CPE"]),
    (4, "athread_get", None, ["points into main memory"]),
    (5, "athread_get", None, ["mode BCAST_MODE not emulated"]),
    (6, "swmlir_dma_wait", None, ["waiting for 2 DMA replies but the reply word holds 1"]),
    (7, "athread_get", None, ["len 100 is not a multiple of bsize 64"]),
    (8, None, None, ["deadlock"]),
    (9, "athread_get", None, ["[", "+3136)", "past the end of the registered buffer"]),
    (10, "athread_get", None, ["runs 28 bytes past the end of its 100-byte ldm_malloc block"]),
    (11, None, None, ["stack overflow"]),
])
def test_errors_are_reported_in_one_line(bad_exe, mode, call, cpe, words):
    p = run(bad_exe, mode)
    assert p.returncode == runtime.EMULATOR_EXIT_CODE, p.stderr
    line = error_line(p.stderr)
    assert line.startswith(f"{ERROR} kernel 'bad' (launch 0), CPE ")
    if cpe is not None:
        assert f"CPE {cpe}, " in line
    if call is not None:
        assert f", {call}: " in line
    for w in words:
        assert w in line


def test_good_mode_of_the_error_program(bad_exe):
    p = run(bad_exe, 0)
    assert p.returncode == 0 and p.stderr == ""


BIG_SLAVE = """
    #include <slave.h>
    #include "swmlir_slave.h"
    struct args { char *buf; int mode; };
    """ + rename("bad") + """
    void bad(void *arg)
    {
        FETCH_ARGS(struct args, args, arg);
        struct args *a = &args;
        char big[70 * 1024]; /* larger than a 64 KB LDM */
        volatile int reply = 0;
        athread_get(PE_MODE, a->buf, big, 4096, (void *)&reply, 0, 0, 0);
        swmlir_dma_wait(&reply, 1);
        a->mode += big[0]; /* keep the array alive */
    }
"""


def test_ldm_overflow(tmp_path):
    exe = build(tmp_path, BAD_HOST, BIG_SLAVE, ldm_bytes=65536)
    p = run(exe, 0)
    assert p.returncode == runtime.EMULATOR_EXIT_CODE
    line = error_line(p.stderr)
    assert "kernel 'bad'" in line and "athread_get" in line
    assert "LDM overflow:" in line and "> 65536" in line
    # the run-time override of the LDM size
    p = run(exe, 0, env={"SWMLIR_LDM_BYTES": str(128 * 1024)})
    assert p.returncode == 0, p.stderr


# ---------------------------------------------------------------------------------------------------------------------
# Direct accesses: CPE code reaches main memory only by DMA. A direct load or store (a gld/gst on the machine) of
# any main memory shared with the kernels -- a buffer, the argument struct -- stops the program with status 3 and
# names the kernel, the CPE, the address and its buffer. The opt-in build counts them instead.
# ---------------------------------------------------------------------------------------------------------------------

DIRECT_HOST = """
    #include <stdio.h>
    #include <stdlib.h>
    #include <athread.h>
    #include "swmlir_runtime.h"
    extern void SLAVE_FUN(direct)(void *);
    struct args { float *table, *out; int mode; };

    int main(int argc, char **argv)
    {
        struct args a;
        int i;
        a.table = swmlir_alloc(4096);
        a.out = swmlir_alloc(4096);
        swmlir_name_buffer(a.table, "the table");
        for (i = 0; i < 1024; i++) a.table[i] = (float)i;
        a.mode = atoi(argv[1]);
        athread_init();
        athread_spawn(direct, &a);
        if (a.mode == 8) /* the host reads a kernel's output before athread_join: it waits for the kernel */
            printf("early=%g\\n", a.out[64]);
        athread_join();
        printf("out=%g\\n", a.out[64]);
        if (argc > 2)
            swmlir_emu_write_stats(argv[2]);
        athread_halt();
        return 0;
    }
"""

DIRECT_SLAVE = """
    #include <unistd.h>
    #include <slave.h>
    #include "swmlir_slave.h"
    struct args { float *table, *out; int mode; };
    """ + rename("direct") + """
    void direct(void *arg)
    {
        FETCH_ARGS(struct args, a, arg);
        int id = athread_get_id(-1), i;
        float ldm[16] = {0}, s = 0;
        volatile int reply = 0;
        volatile float *vt = a.table, *vo = a.out;

        switch (a.mode) {
        case 0: /* fine: everything by DMA */
            athread_get(PE_MODE, a.table + id * 16, ldm, 64, (void *)&reply, 0, 0, 0);
            swmlir_dma_wait(&reply, 1);
            athread_put(PE_MODE, ldm, a.out + id * 16, 64, (void *)&reply, 0, 0);
            swmlir_dma_wait(&reply, 1);
            break;
        case 1: /* a scalar from main memory, the usual temptation (a bias, a scale) */
            if (id == 9) s = vt[100];
            break;
        case 2: /* a store into main memory */
            if (id == 9) vo[3] = 1.0f;
            break;
        case 3: /* the argument struct dereferenced where it lies, in main memory */
            s = (float)((volatile struct args *)arg)->mode;
            break;
        case 4: /* memcpy from main memory */
            memcpy(ldm, a.table + 32, 64);
            s = ldm[id & 15];
            break;
        case 5: /* a SIMD load from main memory */
            swmlir_f4_store(ldm, swmlir_f4_load(a.table + 8));
            s = ldm[id & 3];
            break;
        case 6: /* the opt-in build: 10 loads, 3 stores, a 64-byte memcpy and the argument struct read directly */
            for (i = 0; i < 10; i++) s += vt[id + i];
            for (i = 0; i < 3; i++) vo[id * 4 + i] = s;
            memcpy(ldm, a.table + 16 * id, 64);
            s += (float)((volatile struct args *)arg)->mode;
            break;
        case 8: /* writes out[64] late: the host's early read must wait for it */
            if (id == 4) {
                usleep(100000);
                ldm[0] = 42.0f;
                athread_put(PE_MODE, ldm, a.out + 64, 4, (void *)&reply, 0, 0);
                swmlir_dma_wait(&reply, 1);
            }
            break;
        }
        ldm[15] = s; /* keep the loads */
        if (ldm[15] == -1.0f) athread_put(PE_MODE, ldm, a.out, 4, (void *)&reply, 0, 0);
    }
"""


@pytest.fixture(scope="module")
def direct_exe(tmp_path_factory):
    return build(tmp_path_factory.mktemp("direct"), DIRECT_HOST, DIRECT_SLAVE)


@pytest.mark.parametrize("mode, cpe, kind, words", [
    (1, 9, "load", ["byte 400 of the table [", "+4096)"]),
    (2, 9, "store", ["byte 12 of a buffer from swmlir_alloc [", "+4096)"]),
    (3, None, "load", ["byte 16 of the argument struct [", "+24)"]),
    (4, None, "load", ["byte 128 of the table"]),
    # the 16 bytes [32, 48) of the SIMD load: the compiler may split it (the emulator's check of the store between
    # the load and its use keeps the vector in two 8-byte registers)
    (5, None, "load", [re.compile(r"byte (3[2-9]|4[0-7]) of the table \[")]),
])
def test_direct_main_memory_access_is_an_error(direct_exe, mode, cpe, kind, words):
    p = run(direct_exe, mode)
    assert p.returncode == runtime.EMULATOR_EXIT_CODE, p.stderr
    line = error_line(p.stderr)
    assert line.startswith(f"{ERROR} kernel 'direct' (launch 0), CPE "), line
    if cpe is not None:
        assert f"CPE {cpe}, " in line
    assert f", direct {kind}: address 0x" in line
    assert "only by DMA" in line
    for w in words:
        assert w.search(line) if isinstance(w, re.Pattern) else w in line, (w, line)


def test_dma_only_kernel_and_the_host_waiting_for_the_kernel(direct_exe, tmp_path):
    stats = tmp_path / "s.json"
    p = run(direct_exe, 0, stats)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "out=64" in p.stdout  # CPE 4 copied table[64..80) to out[64..80)
    s = json.loads(stats.read_text())
    assert s["direct_access"] == "guarded" and "direct_access_note" not in s
    (l,) = s["launches"]
    assert (l["gld_requests"], l["gst_requests"], l["max_cpe_direct_requests"]) == (0, 0, 0)
    # between spawn and join the host touches guarded memory: it is held until the kernel is over, then goes on
    p = run(direct_exe, 8)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["early=42", "out=42"]


def test_opt_in_mode_counts_direct_accesses(tmp_path):
    exe = build(tmp_path, DIRECT_HOST, DIRECT_SLAVE, direct_access="count")
    for mode in (1, 2, 3):  # what the guard refuses runs
        assert run(exe, mode).returncode == 0
    stats = tmp_path / "s.json"
    p = run(exe, 6, stats)
    assert p.returncode == 0, p.stderr
    s = json.loads(stats.read_text())
    assert s["direct_access"] == "counted"
    (l,) = s["launches"]
    # per CPE: 10 float loads, a 64-byte memcpy (8 requests of 8 bytes), the 4-byte mode field; 3 float stores
    assert (l["gld_requests"], l["gld_bytes"]) == (64 * (10 + 8 + 1), 64 * (40 + 64 + 4))
    assert (l["gst_requests"], l["gst_bytes"]) == (64 * 3, 64 * 12)
    assert l["max_cpe_direct_requests"] == 10 + 8 + 1 + 3
    assert l["get_requests"] == 64  # the argument struct, by DMA
    assert s["totals"]["gld_requests"] == l["gld_requests"]
    with pytest.raises(ValueError, match="direct access mode 'sometimes'"):
        build(tmp_path / "x", DIRECT_HOST, DIRECT_SLAVE, direct_access="sometimes")


def test_guard_off_under_a_sanitizer(tmp_path):
    """AddressSanitizer owns SIGSEGV and the allocator: the guard is off, and the counters file says why."""
    cc = shutil.which("gcc") or shutil.which("cc")
    probe = subprocess.run([cc, "-fsanitize=address", "-x", "c", "-", "-o", str(tmp_path / "probe")],
                           input="int main(void){return 0;}", capture_output=True, text=True)
    if probe.returncode != 0 or subprocess.run([str(tmp_path / "probe")]).returncode != 0:
        pytest.skip("no working AddressSanitizer")
    inc = runtime.include_dir()
    emu_inc = f"-I{runtime.emulator_include_dir()}"   # the emulator's athread.h and slave.h
    srcs = [write(tmp_path, "host.c", DIRECT_HOST), write(tmp_path, "kernels.c", DIRECT_SLAVE)]
    cmd = [cc, "-std=gnu99", "-O1", "-g", "-fsanitize=address", "-pthread", "-DSWMLIR_EMULATOR", f"-I{inc}",
           *runtime.runtime_sources(), "-o", str(tmp_path / "asan")]
    objs = []
    for src, role in zip(srcs, ("HOST", "SLAVE")):
        obj = str(tmp_path / (Path(src).stem + ".o"))
        c = subprocess.run([cc, "-std=gnu99", "-O1", "-fsanitize=address", "-DSWMLIR_EMULATOR", f"-DSWMLIR_{role}",
                            emu_inc, f"-I{inc}", "-c", src, "-o", obj], capture_output=True, text=True)
        assert c.returncode == 0, c.stderr
        objs.append(obj)
    c = subprocess.run(cmd + objs, capture_output=True, text=True)
    assert c.returncode == 0, c.stderr
    stats = tmp_path / "s.json"
    p = run(str(tmp_path / "asan"), 0, stats, env={"ASAN_OPTIONS": "detect_leaks=0"})
    assert p.returncode == 0, p.stderr
    s = json.loads(stats.read_text())
    assert s["direct_access"] == "unguarded" and "sanitizer" in s["direct_access_note"]


# ---------------------------------------------------------------------------------------------------------------------
# The driver, with a fake compiled model: out = (in0 + in1) * w[0] + w[1], 64 CPEs x 256 floats.
# ---------------------------------------------------------------------------------------------------------------------

MODEL_H = """
    #include <stddef.h>
    #define SWMLIR_NUM_INPUTS 2
    #define SWMLIR_NUM_OUTPUTS 1
    extern const size_t swmlir_input_bytes[];
    extern const size_t swmlir_output_bytes[];
    int swmlir_init(const char *weights_path);
    void swmlir_run_packed(void *const *inputs, void *const *outputs);
    void swmlir_finalize(void);
"""

MODEL_C = """
    #include <athread.h>
    #include "swmlir_runtime.h"
    #include "model.h"
    #define CHUNK 256
    struct args { void *a, *b, *out, *w; };
    extern void SLAVE_FUN(axpb)(void *);
    const size_t swmlir_input_bytes[] = {64 * CHUNK * 4, 64 * CHUNK * 4};
    const size_t swmlir_output_bytes[] = {64 * CHUNK * 4};
    static void *weights;

    int swmlir_init(const char *weights_path)
    {
        if (!(weights = swmlir_load_weights(weights_path, 8))) return 1;
        return athread_init();
    }
    void swmlir_run_packed(void *const *inputs, void *const *outputs)
    {
        struct args a;
        a.a = inputs[0]; a.b = inputs[1]; a.out = outputs[0]; a.w = weights;
        athread_spawn(axpb, &a);
        athread_join();
    }
    void swmlir_finalize(void)
    {
        athread_halt();
        swmlir_free(weights);
    }
"""

MODEL_SLAVE = """
    #include <slave.h>
    #include "swmlir_slave.h"
    #define CHUNK 256
    struct args { void *a, *b, *out, *w; };
    """ + rename("axpb") + """
    void axpb(void *arg)
    {
        FETCH_ARGS(struct args, args, arg);
        struct args *p = &args;
        int id = athread_get_id(-1), i;
        float a[CHUNK], b[CHUNK], w[2];
        volatile int reply = 0;
        athread_get(PE_MODE, (float *)p->a + id * CHUNK, a, CHUNK * 4, (void *)&reply, 0, 0, 0);
        athread_get(PE_MODE, (float *)p->b + id * CHUNK, b, CHUNK * 4, (void *)&reply, 0, 0, 0);
        athread_get(PE_MODE, p->w, w, 8, (void *)&reply, 0, 0, 0);
        swmlir_dma_wait(&reply, 3);
        for (i = 0; i < CHUNK; i++) a[i] = (a[i] + b[i]) * w[0] + w[1];
        athread_put(PE_MODE, a, (float *)p->out + id * CHUNK, CHUNK * 4, (void *)&reply, 0, 0);
        swmlir_dma_wait(&reply, 1);
    }
"""


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("model")
    write(d, "model.h", MODEL_H)
    exe = runtime.build_emulated_executable(
        str(d), [write(d, "model.c", MODEL_C)], [write(d, "model_kernels.c", MODEL_SLAVE)], ldm_bytes=65536,
        opt="-O1")
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(64 * 256).astype(np.float32)
    x1 = rng.standard_normal(64 * 256).astype(np.float32)
    w = np.array([1.5, -0.25], dtype=np.float32)
    for name, arr in (("w.bin", w), ("x0.bin", x0), ("x1.bin", x1)):
        arr.tofile(d / name)
    return d, exe, (x0 + x1) * w[0] + w[1]


def test_driver_runs_model(model_files, tmp_path):
    d, exe, expected = model_files
    out, stats = tmp_path / "y.bin", tmp_path / "stats.json"
    p = runtime.run_emulated(exe, str(d / "w.bin"), [str(d / "x0.bin"), str(d / "x1.bin")], [str(out)],
                             stats_json=str(stats), repeat=3)
    np.testing.assert_array_equal(np.fromfile(out, dtype=np.float32), expected)
    assert runtime.parse_time_ms(p.stderr) > 0
    s = json.loads(stats.read_text())
    assert [l["kernel"] for l in s["launches"]] == ["axpb"] * 3
    assert s["totals"]["get_requests"] == 3 * 64 * 4
    assert s["totals"]["block_sizes"] == {"32": 3 * 64, "8": 3 * 64, "1024": 3 * 64 * 3}


def test_driver_checks_input_size(model_files, tmp_path):
    d, exe, _ = model_files
    short = tmp_path / "short.bin"
    np.zeros(10, np.float32).tofile(short)
    with pytest.raises(RuntimeError, match=r"input 1 '.*short.bin' has 40 bytes, the model expects 65536"):
        runtime.run_emulated(exe, str(d / "w.bin"), [str(d / "x0.bin"), str(short)], [str(tmp_path / "y.bin")])
    p = run(exe, d / "w.bin", d / "x0.bin", tmp_path / "y.bin")
    assert p.returncode == 2 and "expected 4 file arguments, got 3" in p.stderr


def test_driver_checks_weights(model_files, tmp_path):
    d, exe, _ = model_files
    inputs = [str(d / "x0.bin"), str(d / "x1.bin")]
    with pytest.raises(RuntimeError, match=r"weights file '.*x0.bin' has 65536 bytes, the model expects 8"):
        runtime.run_emulated(exe, inputs[0], inputs, [str(tmp_path / "y.bin")])
    with pytest.raises(RuntimeError, match="cannot open weights file"):
        runtime.run_emulated(exe, str(tmp_path / "missing.bin"), inputs, [str(tmp_path / "y.bin")])


def test_run_emulated_reports_the_emulator_line(bad_exe, tmp_path):
    # run_emulated passes (weights, inputs..., outputs...) as argv: "2" makes the error program misbehave.
    with pytest.raises(RuntimeError) as e:
        runtime.run_emulated(bad_exe, "2", [], [])
    first = str(e.value).splitlines()[0]
    assert first.startswith(ERROR) and "outside every registered buffer" in first


# ---------------------------------------------------------------------------------------------------------------------
# Build: cache reuse, concurrent builders, compiler errors, a warning-free runtime.
# ---------------------------------------------------------------------------------------------------------------------

def _cached_objects() -> list[Path]:
    return sorted((runtime.cache_dir() / "runtime").glob("*/*.o"))


def test_runtime_objects_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("SWMLIR_CACHE_DIR", str(tmp_path / "cache"))
    build(tmp_path / "a", BAD_HOST, BAD_SLAVE)
    objs = _cached_objects()
    assert [o.name for o in objs] == ["emulator.o", "swmlir_runtime.o"]
    stamps = [o.stat().st_mtime_ns for o in objs]
    build(tmp_path / "b", BAD_HOST, BAD_SLAVE)
    assert _cached_objects() == objs and [o.stat().st_mtime_ns for o in objs] == stamps
    build(tmp_path / "c", BAD_HOST, BAD_SLAVE, ldm_bytes=262144)  # another LDM size: another entry
    assert len(_cached_objects()) == 4


def test_concurrent_builds_share_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SWMLIR_CACHE_DIR", str(tmp_path / "cache"))
    errors = []

    def one(i):
        try:
            exe = build(tmp_path / f"b{i}", BAD_HOST, BAD_SLAVE)
            assert run(exe, 0).returncode == 0
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(_cached_objects()) == 2
    assert not list((runtime.cache_dir() / "runtime").glob("*/*.tmp"))


def test_compiler_errors_raise_with_stderr(tmp_path):
    with pytest.raises(RuntimeError, match="C compilation failed(.|\n)*undeclared_thing"):
        build(tmp_path, BAD_HOST, "void slave_bad(void *a) { undeclared_thing = 1; }\n")


def test_runtime_compiles_without_warnings(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    inc = runtime.include_dir()
    rt, emu = runtime.runtime_sources()
    write(tmp_path, "model.h", MODEL_H)
    cmds = [
        [cc, "-std=gnu99", "-DSWMLIR_EMULATOR", "-c", emu],
        [cc, "-std=gnu99", "-DSWMLIR_EMULATOR", "-c", rt],
        [cc, "-std=c99", "-pedantic", "-c", rt],  # portable: what sw5cc -host gets
        [cc, "-std=c99", "-pedantic", f"-I{tmp_path}", "-c", runtime.driver_source()],
        [cc, "-std=gnu99", "-c", str(Path(rt).parent / "direct_count.c")],  # the opt-in mode's hooks
    ]
    for cmd in cmds:
        p = subprocess.run([*cmd, "-O2", "-Wall", "-Wextra", "-Werror", f"-I{inc}", "-o", str(tmp_path / "x.o")],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr


@pytest.mark.skipif(not shutil.which("cmake"), reason="needs cmake")
def test_cmake_library(tmp_path):
    """The runtime's CMakeLists.txt, used through add_subdirectory as a generated project would."""
    write(tmp_path, "host.c", BAD_HOST)
    write(tmp_path, "kernels.c", BAD_SLAVE)
    write(tmp_path, "CMakeLists.txt", f"""
        cmake_minimum_required(VERSION 3.16)
        project(model C)
        add_subdirectory({Path(runtime.include_dir()).parent.as_posix()} swmlir_runtime)
        add_executable(model host.c kernels.c)
        set_source_files_properties(host.c PROPERTIES COMPILE_DEFINITIONS SWMLIR_HOST)
        set_source_files_properties(kernels.c PROPERTIES COMPILE_DEFINITIONS SWMLIR_SLAVE)
        target_link_libraries(model PRIVATE swmlir_emulator)
    """)
    for cmd in (["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "build")],
                ["cmake", "--build", str(tmp_path / "build")]):
        p = subprocess.run(cmd, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
    assert "warning" not in p.stdout.lower() + p.stderr.lower()
    assert run(str(tmp_path / "build" / "model"), 0).returncode == 0
    p = run(str(tmp_path / "build" / "model"), 2)
    assert p.returncode == 3 and "outside every registered buffer" in error_line(p.stderr)


# ---------------------------------------------------------------------------------------------------------------------
# The host runtime API, a smaller spawn, reset of the counters.
# ---------------------------------------------------------------------------------------------------------------------

API_HOST = """
    #include <stdio.h>
    #include <stdint.h>
    #include <athread.h>
    #include "swmlir_runtime.h"
    extern void SLAVE_FUN(one_get)(void *);

    int main(int argc, char **argv)
    {
        char *p = swmlir_alloc(1000), *w;
        char mine[256];
        size_t i;
        int zero = 1;

        for (i = 0; i < 1000; i++) zero &= p[i] == 0;
        printf("aligned=%d zero=%d\\n", (int)((uintptr_t)p % 128 == 0), zero);
        w = swmlir_load_weights(NULL, 0);
        printf("noweights=%d\\n", w != NULL);
        printf("badweights=%d\\n", swmlir_load_weights(argv[0], 3) == NULL);
        swmlir_free(w);

        athread_init();
        athread_spawn(one_get, p); /* counted, then forgotten */
        athread_join();
        swmlir_emu_reset_stats();
        athread_set_num_threads(8);
        printf("threads=%d max=%d\\n", athread_get_num_threads(), athread_get_max_threads());
        athread_spawn(one_get, p);
        athread_join();
        athread_set_num_threads(64);
        swmlir_register_buffer(mine, sizeof mine); /* a caller-owned buffer becomes valid DMA memory */
        athread_spawn(one_get, mine);
        athread_join();
        swmlir_unregister_buffer(mine);
        swmlir_emu_write_stats(argv[1]);
        if (argc > 2) { /* now unregistered: must be refused */
            athread_spawn(one_get, mine);
            athread_join();
        }
        athread_halt();
        swmlir_free(p);
        return 0;
    }
"""

API_SLAVE = """
    #include <slave.h>
    #include "swmlir_slave.h"
    """ + rename("one_get") + """
    void one_get(void *arg)
    {
        char buf[64];
        volatile int reply = 0;
        athread_get(PE_MODE, (char *)arg + 2 * _MYID, buf, 64, (void *)&reply, 0, 0, 0);
        swmlir_dma_wait(&reply, 1);
    }
"""


def test_runtime_api_and_partial_spawn(tmp_path):
    exe = build(tmp_path, API_HOST, API_SLAVE)
    stats = tmp_path / "s.json"
    p = run(exe, stats)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["aligned=1", "zero=1", "noweights=1", "badweights=1", "threads=8", "max=64"]
    assert "the model expects 3" in p.stderr
    s = json.loads(stats.read_text())
    assert [(l["kernel"], l["launch"], l["get_requests"]) for l in s["launches"]] == [
        ("one_get", 0, 8), ("one_get", 1, 64)]
    p = run(exe, stats, "again")
    assert p.returncode == 3 and "outside every registered buffer" in error_line(p.stderr)
