"""The emulator's checks of tensors, DMA words and LDM arrays (issue 9): a DMA past a tensor that stays inside the
weights, unaligned LDM or main-memory addresses, a DMA length that is not a multiple of the element, a DMA or a
SIMD access overflowing one LDM array into the next, a large local array no DMA touches. Each fault is provoked by
editing the C the compiler emits or by a small hand-written program, and must stop the run with one line naming
the kernel, the launch, the CPE, the call and what is wrong (exit status 3). The registrations compile to nothing
in the Sunway build."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import swmlir
from swmlir import runtime
from swmlir.testing.networks import mlp

from test_emulator import ERROR, build, error_line, rename, run

pytestmark = [pytest.mark.skipif(not (shutil.which("gcc") or shutil.which("cc")), reason="needs a C compiler"),
              pytest.mark.usefixtures("runtime_cache")]

HEX = r"0x[0-9a-f]+"


# ---------------------------------------------------------------------------------------------------------------------
# The emitted C of a small MLP, edited. Kernel 0 computes relu(x @ w0_T^T + b0) for x 2x20 (input 0) and w0_T 16x20
# (the weights' first 1280 bytes, followed at byte 1280 by the bias constant_16xf32): work item i fetches row i / 16
# of x and row i % 16 of w0_T, 80 bytes each, into the local arrays of its body.
# ---------------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mlp_package(tmp_path_factory):
    d = tmp_path_factory.mktemp("mlp")
    m = swmlir.compile(mlp(batch=2, sizes=(20, 16, 4)))
    m.save(str(d))
    x = np.random.default_rng(0).standard_normal((2, 20)).astype(np.float32)
    x.tofile(d / "in0.bin")
    return d, m, x


def _kernel0(slave: str):
    """(kernel name, the body's x and w parameters, the LDM arrays of x's and w's rows and their DMA lines)."""
    body = re.search(r"static void (main_k0\w*)_body\(float (v\d+)\[2\]\[20\], float (v\d+)\[16\]\[20\]", slave)
    kernel, x, w = body.groups()
    rows = re.findall(r"float (v\d+)\[1\]\[20\];\n\s*swmlir_ldm_array\(\1, 80\);", slave)
    assert len(rows) >= 2, slave[:3000]
    # the get of w's row: `float* P = &w[..][..]; ... float* Q = P + OFF; ... athread_get(PE_MODE, Q, ...)`
    w_ptr = re.search(rf"float\* (v\d+) = &{w}\[v\d+\]\[v\d+\];\n(?:.*\n)*?\s*float\* (v\d+) = \1 \+ (v\d+);", slave)
    return kernel, x, w, rows, w_ptr


def _run_edited(d: Path, m, name: str, slave: str, *, host: str | None = None):
    src = d / f"slave_{name}.c"
    src.write_text(slave)
    hsrc = d / "model_host.c"
    if host is not None:
        hsrc = d / f"host_{name}.c"
        hsrc.write_text(host)
    exe = runtime.build_emulated_executable(str(d / name), [str(hsrc)], [str(src)], ldm_bytes=m.target.ldm_bytes,
                                            extra_include_dirs=[str(d)])
    return subprocess.run([exe, str(d / "model.weights.bin"), str(d / "in0.bin"), str(d / f"out_{name}.bin")],
                          capture_output=True, text=True, timeout=120)


def _stopped(p, kernel: str, call: str) -> str:
    assert p.returncode == runtime.EMULATOR_EXIT_CODE, p.stderr
    line = error_line(p.stderr)
    assert re.match(rf"{re.escape(ERROR)} kernel '{kernel}' \(launch \d+\), CPE \d+, {call}: ", line), line
    return line


def test_emitted_code_registers_tensors_and_ldm_arrays(mlp_package):
    d, m, x = mlp_package
    host, slave = (d / "model_host.c").read_text(), (d / "model_slave.c").read_text()
    assert 'swmlir_register_tensor(v5, 1280, "weight w0_T");' in host
    assert re.search(r'swmlir_register_tensor\(v\d+, 64, "weight constant_16xf32"\);', host)
    assert re.search(r'swmlir_register_tensor\(v\d+, 160, "input 0 \(2x20xf32\)"\);', host)
    assert re.search(r'swmlir_register_tensor\(v\d+, 32, "output 0 \(2x4xf32\)"\);', host)
    assert re.search(r'swmlir_register_tensor\(v\d+, 128, "intermediate 2x16xf32 at arena byte 0"\);', host)
    # every local array of the kernels is registered right after its declaration
    arrays = re.findall(r"^\s*float (v\d+)((?:\[\d+\])+);\n\s*swmlir_ldm_array\((v\d+), (\d+)\);", slave, re.M)
    assert arrays and all(a == b for a, _, b, _ in arrays)
    for _, dims, _, nbytes in arrays:
        assert int(nbytes) == 4 * int(np.prod([int(n) for n in re.findall(r"\d+", dims)]))
    assert len(arrays) == len(re.findall(r"^\s*float v\d+(?:\[\d+\])+;", slave, re.M))
    # and the unedited package runs clean
    p = _run_edited(d, m, "clean", slave)
    assert p.returncode == 0 and ERROR not in p.stderr, p.stderr
    np.testing.assert_allclose(np.fromfile(d / "out_clean.bin", np.float32).reshape(2, 4), m.run([x])[0],
                               rtol=0, atol=0)


def test_a_dma_past_a_weight_inside_the_weights_is_stopped(mlp_package):
    """Row 15 of w0_T read 4 floats too far: [1216, 1296) stays inside the weights blob (the buffer check passes)
    but runs 16 bytes past w0_T into the bias."""
    d, m, _ = mlp_package
    slave = (d / "model_slave.c").read_text()
    kernel, _, _, _, w_ptr = _kernel0(slave)
    edited = slave.replace(w_ptr.group(0), w_ptr.group(0)[:-1] + " + 4;", 1)
    line = _stopped(_run_edited(d, m, "past_weight", edited), kernel, "athread_get")
    assert re.search(rf"main-memory range \[{HEX},\+80\) starts at byte 1216 of weight w0_T \[{HEX},\+1280\) and "
                     r"runs 16 bytes past its end, into weight constant_16xf32$", line), line


def test_a_dma_past_an_input_is_stopped_naming_the_input(mlp_package):
    """The emitted host registers its arguments too: x's rows read one float too far run past input 0 (and past the
    buffer the driver allocated for it: the tensor is named first)."""
    d, m, _ = mlp_package
    slave = (d / "model_slave.c").read_text()
    kernel, x, _, _, _ = _kernel0(slave)
    xp = re.search(rf"float\* (v\d+) = &{x}\[v\d+\]\[v\d+\];\n(?:.*\n)*?\s*float\* (v\d+) = \1 \+ (v\d+);", slave)
    line = _stopped(_run_edited(d, m, "past_input", slave.replace(xp.group(0), xp.group(0)[:-1] + " + 1;", 1)),
                    kernel, "athread_get")
    assert re.search(rf"starts at byte 84 of input 0 \(2x20xf32\) \[{HEX},\+160\) and runs 4 bytes past its end$",
                     line), line


def test_unregistered_tensors_are_not_checked_and_stale_ones_are_replaced(mlp_package):
    """Without the host's registrations the same overrun stays inside the weights buffer and is not caught: the
    check is the tensors'. A registration replaces the tensors it overlaps (a later arena slot in a dead one's
    place): registering [0, 1344) of the weights as one tensor before the launch lets the overrun through."""
    d, m, _ = mlp_package
    slave = (d / "model_slave.c").read_text()
    _, _, _, _, w_ptr = _kernel0(slave)
    edited = slave.replace(w_ptr.group(0), w_ptr.group(0)[:-1] + " + 4;", 1)
    host = (d / "model_host.c").read_text()
    unregistered = re.sub(r"\n\s*swmlir_register_tensor\([^;]*\);", "", host)
    p = _run_edited(d, m, "no_tensors", edited, host=unregistered)
    assert p.returncode == 0, p.stderr
    merged = host.replace('swmlir_register_tensor(v5, 1280, "weight w0_T");',
                          'swmlir_register_tensor(v5, 1280, "weight w0_T");\n'
                          '  swmlir_register_tensor(v5, 1344, "w0_T and its bias");', 1)
    p = _run_edited(d, m, "merged", edited, host=merged)
    assert p.returncode == 0, p.stderr


def test_a_dma_length_that_is_not_a_multiple_of_the_element_is_stopped(mlp_package):
    d, m, _ = mlp_package
    slave = (d / "model_slave.c").read_text()
    kernel = _kernel0(slave)[0]
    get = re.search(r"athread_get\(PE_MODE, (v\d+), (v\d+), 80, ", slave).group(0)
    line = _stopped(_run_edited(d, m, "len78", slave.replace(get, get.replace(", 80, ", ", 78, "), 1)), kernel,
                    "athread_get")
    assert line.endswith("len 78 is not a multiple of 4 bytes, the size of the element moved (len 78, stride 0, "
                         "bsize 0)"), line


def test_an_unaligned_ldm_address_of_emitted_code_is_stopped(mlp_package):
    d, m, _ = mlp_package
    slave = (d / "model_slave.c").read_text()
    kernel = _kernel0(slave)[0]
    get = re.search(r"athread_get\(PE_MODE, (v\d+), (v\d+), 80, ", slave)
    edited = slave.replace(get.group(0), f"athread_get(PE_MODE, {get.group(1)}, (float *)((char *){get.group(2)} + 2), "
                                         "76, ", 1)
    line = _stopped(_run_edited(d, m, "unaligned", edited), kernel, "athread_get")
    assert re.search(rf"LDM address {HEX} is not a multiple of 4 bytes, the size of the element moved \(it is 2 bytes "
                     r"past one\)$", line), line


def test_a_dma_overflowing_an_emitted_ldm_array_is_stopped_naming_it(mlp_package):
    """x's row fetched with twice its length into its 80-byte local array."""
    d, m, _ = mlp_package
    slave = (d / "model_slave.c").read_text()
    kernel, _, _, rows, _ = _kernel0(slave)
    first = re.search(r"athread_get\(PE_MODE, (v\d+), (v\d+), 80, ", slave)
    line = _stopped(_run_edited(d, m, "overflow", slave.replace(first.group(0),
                                                                first.group(0).replace(", 80, ", ", 160, "), 1)),
                    kernel, "athread_get")
    assert re.search(rf"LDM range \[{HEX},\+160\) starts at byte 0 of LDM array {rows[0]} \[{HEX},\+80\) and runs 80 "
                     rf"bytes past its end(, \d+ of them into LDM array v\d+ \[{HEX},\+\d+\))?$", line), line


def test_a_large_local_array_no_dma_touches_counts_in_the_ldm(mlp_package):
    """An 80000-byte array added to the kernel body, written by the CPE but never a DMA's: over the 64 KB LDM."""
    d, m, _ = mlp_package
    slave = (d / "model_slave.c").read_text()
    kernel, _, _, rows, _ = _kernel0(slave)
    decl = f"float {rows[0]}[1][20];\n"
    edited = slave.replace(decl, decl + "    volatile float big[20000];\n    swmlir_ldm_array(big, sizeof big);\n"
                                        "    big[i19] = 1.0f;\n", 1)
    line = _stopped(_run_edited(d, m, "big", edited), kernel, "swmlir_ldm_array")
    assert re.search(r"LDM overflow: local array big of 80000 bytes brings the LDM in use to \d+ bytes > 65536 ", line)


def test_the_sunway_build_compiles_the_registrations_to_nothing(mlp_package, tmp_path):
    """The Makefile's flags do not define SWMLIR_EMULATOR, and without it the registrations are ((void)(x)): with
    empty stand-ins for the vendor headers, the preprocessed model C names no emulator function."""
    d, _, _ = mlp_package
    make = (d / "Makefile").read_text()
    assert "SWMLIR_EMULATOR" not in make
    flags = re.search(r"^CFLAGS_SLAVE = (.*)$", make, re.M).group(1).split()
    stubs = tmp_path / "vendor"
    stubs.mkdir()
    for h in ("athread.h", "slave.h", "simd.h", "crts.h"):
        (stubs / h).write_text("")
    cc = shutil.which("gcc") or shutil.which("cc")
    for src, extra in (("model_host.c", []), ("model_slave.c", [f for f in flags if f.startswith("-D")])):
        out = subprocess.run([cc, "-E", "-P", *extra, f"-I{stubs}", f"-I{d}", f"-I{d / 'runtime' / 'include'}",
                              str(d / src)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        code = out.stdout
        assert "swmlir_emu_" not in code and "swmlir_register_tensor" not in code and "swmlir_ldm_array" not in code
        assert re.search(r"\(\(void\)\(v\d+\)\);", code)


# ---------------------------------------------------------------------------------------------------------------------
# Hand-written programs: the exact messages of each check, mode by argv[1].
# ---------------------------------------------------------------------------------------------------------------------

CHECK_HOST = """
    #include <stdlib.h>
    #include <athread.h>
    #include "swmlir_runtime.h"
    extern void SLAVE_FUN(k)(void *);
    struct args { float *buf; int mode; };

    int main(int argc, char **argv)
    {
        struct args a;
        a.buf = swmlir_alloc(4096);
        swmlir_name_buffer(a.buf, "the blob");
        a.mode = atoi(argv[1]);
        /* two tensors of the blob: a = bytes [0, 1000), b = [1024, 2048); the bytes between belong to none */
        swmlir_register_tensor(a.buf, 1000, "tensor a");
        swmlir_register_tensor((char *)a.buf + 1024, 1024, "tensor b");
        if (a.mode == 4) /* c in their place: a and b are dead */
            swmlir_register_tensor(a.buf, 2048, "tensor c");
        if (a.mode == 5) { /* the tensors of a freed buffer end with it (the new one may take its place) */
            swmlir_free(a.buf);
            a.buf = swmlir_alloc(4096);
        }
        athread_init();
        athread_spawn(k, &a);
        athread_join();
        athread_halt();
        return 0;
    }
"""

CHECK_SLAVE = """
    #include <slave.h>
    #include "swmlir_slave.h"
    struct args { float *buf; int mode; };
    """ + rename("k") + """
    /* A 48 KB local array in a frame of its own that no DMA reaches: registered (reg) or not. */
    static __attribute__((noinline)) float touch_big(int id, int reg)
    {
        volatile float big[12000];
        if (reg)
            swmlir_ldm_array(big, sizeof big);
        big[id] = 1.0f;
        return big[id];
    }

    void k(void *arg)
    {
        FETCH_ARGS(struct args, a, arg);
        int id = athread_get_id(-1);
        float two[2][16];            /* two LDM arrays, side by side */
        float scratch[64];           /* not registered */
        float rows[4][8];            /* rows of an array (its element: a float) */
        char bytes[64];
        volatile int reply = 0;
        float *f = a.buf, s = 0.0f;
        if (a.mode != 0 && a.mode != 5 && id != 3)
            return;
        swmlir_ldm_array(two[0], sizeof two[0]);
        swmlir_ldm_array(two[1], sizeof two[1]);
        switch (a.mode) {
        case 0: /* fine: inside tensor b, bytes by char pointers at any offset, rows of an array */
            athread_get(PE_MODE, f + 256 + 4 * (id & 7), two[0], 64, (void *)&reply, 0, 0, 0);
            athread_get(PE_MODE, (char *)f + 1025, bytes, 63, (void *)&reply, 0, 0, 0);
            athread_get(PE_MODE, f + 300, rows, sizeof rows, (void *)&reply, 0, 16, 16);
            swmlir_dma_wait(&reply, 3);
            swmlir_f4_store(&two[1][12], swmlir_f4_load(&two[0][0]));
            break;
        case 1: /* [960, 1060): past the end of a, into b */
            athread_get(PE_MODE, f + 240, scratch, 100, (void *)&reply, 0, 0, 0);
            break;
        case 2: /* [1004, 1068): starts between the tensors */
            athread_get(PE_MODE, f + 251, two[0], 64, (void *)&reply, 0, 0, 0);
            break;
        case 3: /* a put past the end of b into the rest of the blob: strided, 2 blocks of 32 B, pitch 1000 */
            athread_put(PE_MODE, two[0], f + 256 + 200, 64, (void *)&reply, 968, 32);
            break;
        case 4: case 5: /* [960, 1060): inside c (mode 4); in a buffer without tensors (mode 5) */
            athread_get(PE_MODE, f + 240, scratch, 100, (void *)&reply, 0, 0, 0);
            swmlir_dma_wait(&reply, 1);
            break;
        case 10: /* main-memory address 2 bytes past a float */
            athread_get(PE_MODE, (float *)((char *)f + 1026), two[0], 16, (void *)&reply, 0, 0, 0);
            break;
        case 11: /* LDM address 2 bytes past a float */
            athread_get(PE_MODE, f + 256, (float *)((char *)two[0] + 2), 16, (void *)&reply, 0, 0, 0);
            break;
        case 12:
            athread_get(PE_MODE, f + 256, two[0], 30, (void *)&reply, 0, 0, 0);
            break;
        case 13: /* strided: blocks of 6 bytes */
            athread_get(PE_MODE, f + 256, two[0], 24, (void *)&reply, 0, 10, 6);
            break;
        case 14: /* strided: 6 bytes skipped */
            athread_get(PE_MODE, f + 256, two[0], 32, (void *)&reply, 0, 6, 16);
            break;
        case 15: /* a reply word at an odd address */
            athread_get(PE_MODE, f + 256, two[0], 16, (void *)((char *)&reply + 1), 0, 0, 0);
            break;
        case 20: /* one array into the next */
            athread_get(PE_MODE, f + 256, two[0], 96, (void *)&reply, 0, 0, 0);
            break;
        case 21: /* a put from the second array, past its end */
            athread_put(PE_MODE, two[1], f + 256, 72, (void *)&reply, 0, 0);
            break;
        case 22: /* a SIMD load across the boundary */
            s = swmlir_f4_sum(swmlir_f4_load(&two[0][14]));
            break;
        case 23: /* a SIMD store across it */
            swmlir_f4_store(&two[0][13], swmlir_f4_splat(1.0f));
            break;
        case 24: /* a DMA that starts below the arrays (unregistered stack) and runs into the first */
            athread_get(PE_MODE, f + 256, two[0] - 2, 16, (void *)&reply, 0, 0, 0);
            break;
        case 30: case 31: /* the 48 KB array, registered or not, that no DMA touches */
            s = touch_big(id, a.mode == 30);
            break;
        }
        s += scratch[id & 7] * 0.0f + bytes[0] * 0.0f + rows[0][0] * 0.0f;
        if (s == 12345.0f) /* keep the arrays */
            athread_put(PE_MODE, two[0], f, 4, (void *)&reply, 0, 0);
    }
"""


@pytest.fixture(scope="module")
def check_exe(tmp_path_factory):
    return build(tmp_path_factory.mktemp("checks"), CHECK_HOST, CHECK_SLAVE)


@pytest.mark.parametrize("mode, call, pattern", [
    (1, "athread_get", rf"main-memory range \[{HEX},\+100\) starts at byte 960 of tensor a \[{HEX},\+1000\) and "
                       r"runs 60 bytes past its end, into tensor b$"),
    (2, "athread_get", rf"main-memory range \[{HEX},\+64\) is in the blob \[{HEX},\+4096\) but starts in none of its "
                       r"tensors \(4 bytes past the end of tensor a\)$"),
    (3, "athread_put", rf"main-memory range \[{HEX},\+1032\) starts at byte 800 of tensor b \[{HEX},\+1024\) and runs "
                       r"808 bytes past its end$"),
    (10, "athread_get", rf"main-memory address {HEX} is not a multiple of 4 bytes, the size of the element moved "
                        r"\(it is 2 bytes past one\)$"),
    (11, "athread_get", rf"LDM address {HEX} is not a multiple of 4 bytes"),
    (12, "athread_get", r"len 30 is not a multiple of 4 bytes, the size of the element moved \(len 30, stride 0, "
                        r"bsize 0\)$"),
    (13, "athread_get", r"bsize 6 is not a multiple of 4 bytes"),
    (14, "athread_get", r"stride 6 is not a multiple of 4 bytes"),
    (15, "athread_get", rf"reply word {HEX} is not 4-byte aligned"),
    (20, "athread_get", rf"LDM range \[{HEX},\+96\) starts at byte 0 of LDM array two\[0\] \[{HEX},\+64\) and runs "
                        rf"32 bytes past its end, 32 of them into LDM array two\[1\] \[{HEX},\+64\)$"),
    (21, "athread_put", rf"LDM range \[{HEX},\+72\) starts at byte 0 of LDM array two\[1\] \[{HEX},\+64\) and runs "
                        r"8 bytes past its end"),
    (22, "swmlir_f4_load", rf"vector \[{HEX},\+16\) starts at byte 56 of LDM array two\[0\] \[{HEX},\+64\) and runs "
                           rf"8 bytes past its end, 8 of them into LDM array two\[1\]"),
    (23, "swmlir_f4_store", rf"vector \[{HEX},\+16\) starts at byte 52 of LDM array two\[0\]"),
    (24, "athread_get", rf"LDM range \[{HEX},\+16\) starts in no LDM array of the kernel and runs 8 bytes into LDM "
                        r"array two\[[01]\]"),
])
def test_check_messages(check_exe, mode, call, pattern):
    p = run(check_exe, mode)
    assert p.returncode == runtime.EMULATOR_EXIT_CODE, p.stderr
    line = error_line(p.stderr)
    assert line.startswith(f"{ERROR} kernel 'k' (launch 0), CPE 3, {call}: "), line
    assert re.search(pattern, line), line


@pytest.mark.parametrize("mode", [0, 4, 5])
def test_legitimate_accesses_pass(check_exe, mode):
    p = run(check_exe, mode)
    assert p.returncode == 0 and p.stderr == "", p.stderr


def test_ldm_peak_counts_a_registered_array_no_dma_touches(check_exe, tmp_path):
    """Mode 30 registers the 48 KB array and only stores into it: it counts in the LDM peak. Mode 31 does not
    register it: no DMA reaches its frame, so nothing sees it (what emitted code without swmlir_ldm_array hid)."""
    peaks = {}
    for mode in (31, 30):
        stats = tmp_path / f"s{mode}.json"
        p = run(check_exe, mode, stats=stats)
        assert p.returncode == 0, p.stderr
        peaks[mode] = json.loads(stats.read_text())["launches"][0]["ldm_peak_bytes"]
    assert peaks[31] < 4096 and 48000 <= peaks[30] <= 48000 + 4096, peaks
    p = run(check_exe, 30, env={"SWMLIR_LDM_BYTES": str(40 * 1024)})
    assert p.returncode == runtime.EMULATOR_EXIT_CODE
    assert re.search(r", CPE 3, swmlir_ldm_array: LDM overflow: local array big of 48000 bytes brings the LDM in "
                     r"use to \d+ bytes > 40960", error_line(p.stderr))


CRTS_SLAVE = """
    #define SWMLIR_CRTS 1
    #include <crts.h>
    #include "swmlir_slave.h"
    struct args { float *buf; int mode; };
    #if defined(SWMLIR_EMULATOR) && defined(SWMLIR_SLAVE)
    #define k slave_k
    #endif
    void k(void *arg)
    {
        struct args a;
        crts_rply_t r = 0;
        float two[2][16];
        CRTS_dma_iget(&a, arg, sizeof a, &r);
        CRTS_dma_wait_value(&r, 1);
        if (CRTS_tid != 3)
            return;
        swmlir_ldm_array(two[0], sizeof two[0]);
        swmlir_ldm_array(two[1], sizeof two[1]);
        switch (a.mode) {
        case 0: /* fine */
            CRTS_dma_iget_stride(two[0], a.buf + 256, 64, 16, 16, &r);
            CRTS_dma_wait_value(&r, 2);
            break;
        case 1:
            CRTS_dma_iget(two[0], a.buf + 256, 18, &r);
            break;
        case 2:
            CRTS_dma_get(two[0], a.buf + 256, 96);
            break;
        case 3: /* 256 KB: the descriptor's 18-bit size field holds at most 262143 */
            {
                char *h = (char *)CRTS_pldm_malloc(1 << 18);
                CRTS_dma_iget(h, a.buf, 1 << 18, &r);
            }
            break;
        case 6: /* [976, 1040) */
            CRTS_dma_iput(a.buf + 244, two[0], 64, &r);
            break;
        }
    }
"""


def test_crts_calls_are_checked_alike(tmp_path):
    exe = build(tmp_path, CHECK_HOST, CRTS_SLAVE, ldm_bytes=1 << 20)
    assert run(exe, 0).returncode == 0
    for mode, call, pattern in [
            (1, "CRTS_dma_iget", r"len 18 is not a multiple of 4 bytes"),
            (2, "CRTS_dma_get", r"starts at byte 0 of LDM array two\[0\] .* into LDM array two\[1\]"),
            (3, "CRTS_dma_iget", r"len 262144 does not fit the 18-bit field of a CRTS DMA descriptor \(at most "
                                 r"262143 bytes\)"),
            (6, "CRTS_dma_iput", r"starts at byte 976 of tensor a .* runs 40 bytes past its end, into tensor b$")]:
        p = run(exe, mode)
        assert p.returncode == runtime.EMULATOR_EXIT_CODE, (mode, p.stderr)
        line = error_line(p.stderr)
        assert line.startswith(f"{ERROR} kernel 'k' (launch 0), CPE 3, {call}: "), line
        assert re.search(pattern, line), line
