/*
 * swmlir_slave.h -- helpers for kernels (CPE code) emitted by swmlir. Portable: the same code builds with the
 * vendor's slave.h on the SW26010 and with the emulator's slave.h on a host (SWMLIR_EMULATOR defined). Kernels
 * for the CRTS API of SW26010-Pro define SWMLIR_CRTS before including it (the emitted model_slave.c does): it then
 * builds on crts.h, the vendor's or the emulator's.
 */
#ifndef SWMLIR_SLAVE_HELPERS_H
#define SWMLIR_SLAVE_HELPERS_H

#ifdef SWMLIR_CRTS
#include <crts.h>
#else
#include <slave.h>
#endif
#include <string.h>

/* Wait until `count` DMA requests issued with this reply word have completed, then reset it for reuse.
 * The reply word must be volatile, or the compiler removes the spin loop. */
static inline void swmlir_dma_wait(volatile int *reply, int count)
{
#ifdef SWMLIR_EMULATOR
    swmlir_emu_dma_wait_check(reply, count);
#endif
    while (*reply != count)
        ;
    *reply = 0;
}

/* An LDM buffer of the kernel: the compiler emits `swmlir_ldm_array(buf, bytes);` after each local array. Under the
 * emulator the array is registered with its C name: it counts in the LDM in use whether or not a DMA touches it,
 * and a DMA or SIMD access that starts in it must end in it (overflowing into the next array is an error naming
 * both). Nothing on the machine. */
#ifdef SWMLIR_EMULATOR
#define swmlir_ldm_array(array, bytes) swmlir_emu_ldm_array((array), (bytes), #array)
#else
#define swmlir_ldm_array(array, bytes) ((void)(array))
#endif

/* The core group of the calling CPE, in kernels distributed over several core groups (swmlir compile --cgs N:
 * work item t runs on the CPE of global id t mod (N * 64), global id = CG * 64 + CPE). Under CRTS it is CRTS_cgn
 * (the emitted C uses that name directly); with athread on the emulator, the CG it runs the kernel on. The
 * vendor's SW26010 athread has no such id: there one MPI rank drives each core group, in its own address space,
 * so multi-CG C for sw26010 runs on the emulator and in the performance model, not on a TaihuLight node. */
#ifdef SWMLIR_CRTS
#define swmlir_cg_id() ((int)CRTS_cgn)
#elif defined(SWMLIR_EMULATOR)
#define swmlir_cg_id() (swmlir_emu_cg_id())
#endif

/* The float whose bits are `bits` (arith.bitcast i32 -> f32, which EmitC has no form for; sunway-fast-math
 * builds 2^n in the exponent bits). memcpy is the portable type pun; compilers make it one move. */
static inline float swmlir_f32_from_bits(int bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/*
 * SIMD helpers of the micro-kernels (sunway-vector-to-simd emits calls of these). floatv4 is SW26010's 256-bit
 * single-precision vector (4 floats), floatv8 SW26010-Pro's 512-bit one. On the machine they come from the vendor's
 * <simd.h> (build slave code with -msimd); the emulator defines them as GCC vectors of the same lane count.
 * Loads and stores are the unaligned forms: LDM tiles are not 32-byte aligned at every block offset. load_splat
 * loads one float into every lane (simd_loade), one instruction where a load and a splat would be two. Under the
 * emulator a load or store is checked against the kernel's LDM arrays (swmlir_ldm_array): one that starts in an
 * array and runs out of it is an error; the sum's spill of its own lanes (store_unchecked) is not an LDM buffer.
 */
#ifdef SWMLIR_EMULATOR
#if defined(__GNUC__) && !defined(__clang__)
/* GCC notes that a 32-byte vector returned without AVX has another ABI: the helpers are static inline */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef float floatv4 __attribute__((vector_size(16)));
typedef float floatv8 __attribute__((vector_size(32)));
#define SWMLIR_SIMD_DEFINE(N)                                                                                 \
    static inline floatv##N swmlir_f##N##_load(const float *p)                                               \
    {                                                                                                         \
        floatv##N v;                                                                                          \
        swmlir_emu_ldm_check(p, sizeof v, "swmlir_f" #N "_load");                                            \
        memcpy(&v, p, sizeof v);                                                                              \
        return v;                                                                                             \
    }                                                                                                         \
    static inline void swmlir_f##N##_store_unchecked(float *p, floatv##N v) { memcpy(p, &v, sizeof v); }   \
    static inline void swmlir_f##N##_store(float *p, floatv##N v)                                            \
    {                                                                                                         \
        swmlir_emu_ldm_check(p, sizeof v, "swmlir_f" #N "_store");                                           \
        memcpy(p, &v, sizeof v);                                                                              \
    }                                                                                                         \
    static inline floatv##N swmlir_f##N##_splat(float x) { floatv##N v; int i; for (i = 0; i < N; i++) v[i] = x; return v; } \
    static inline floatv##N swmlir_f##N##_load_splat(const float *p) { return swmlir_f##N##_splat(*p); }
#else
#include <simd.h>
#define SWMLIR_SIMD_DEFINE(N)                                                                                 \
    static inline floatv##N swmlir_f##N##_load(const float *p) { floatv##N v; simd_loadu(v, (float *)p); return v; } \
    static inline void swmlir_f##N##_store(float *p, floatv##N v) { simd_storeu(v, p); }                   \
    static inline void swmlir_f##N##_store_unchecked(float *p, floatv##N v) { simd_storeu(v, p); }         \
    static inline floatv##N swmlir_f##N##_splat(float x) { return (floatv##N)x; }                         \
    static inline floatv##N swmlir_f##N##_load_splat(const float *p) { floatv##N v; simd_loade(v, (float *)p); return v; }
#endif
#define SWMLIR_SIMD_ARITH(N)                                                                                  \
    static inline floatv##N swmlir_f##N##_fma(floatv##N a, floatv##N b, floatv##N c) { return a * b + c; }  \
    static inline float swmlir_f##N##_sum(floatv##N v)                                                       \
    {                                                                                                         \
        float lane[N], s = 0.0f;                                                                              \
        int i;                                                                                                \
        swmlir_f##N##_store_unchecked(lane, v);                                                               \
        for (i = 0; i < N; i++)                                                                               \
            s += lane[i];                                                                                     \
        return s;                                                                                             \
    }
#if !defined(SWMLIR_SIMD_LANES) || SWMLIR_SIMD_LANES == 4
SWMLIR_SIMD_DEFINE(4)
SWMLIR_SIMD_ARITH(4)
#endif
#if !defined(SWMLIR_SIMD_LANES) || SWMLIR_SIMD_LANES == 8
SWMLIR_SIMD_DEFINE(8)
SWMLIR_SIMD_ARITH(8)
#endif

/*
 * Share an LDM tile over a row (axis 0) or a column (axis 1) of the 8x8 mesh (sunway.mesh_allgather): the CPE at
 * position p of its row (column) holds bytes [p * slice_bytes, (p + 1) * slice_bytes) of buf, afterwards all 8 hold
 * the 8 slices. On SW26010 this is register communication: in turn, each CPE sends its slice 32 bytes at a time
 * with a broadcast putr/putc (destination 8 = the whole row/column) and the 7 others receive with getr/getc;
 * a get blocks until the data is there, so the 8 CPEs need no barrier. A tail under 32 bytes goes through an
 * aligned bounce buffer. The emulator copies between the peers' LDM instead (same result, counted).
 */
#ifdef SWMLIR_CRTS
/*
 * Under CRTS (SW26010-Pro, no register communication) the same allgather is RMA: after a barrier of the row
 * (column) -- every peer is done with the buffer's old contents and has reset its receive count -- each CPE
 * broadcasts its slice to the same place of every LDM of its row (column), itself included
 * (CRTS_rma_row_ibcast / CRTS_rma_col_ibcast), then waits for its send and for the 8 slices. The receive count is
 * LDM data at the same address in every CPE (__thread_local_fix, as crts.h's own RMA reply words), and buf is
 * too: a local array of the kernel, whose frames every CPE lays out alike. The emulator runs this same code
 * (its crts.h copies between the CPEs' LDMs).
 */
static inline void swmlir_mesh_allgather(void *buf, int slice_bytes, int axis)
{
    static __thread_local_fix crts_rply_t received;
    crts_rply_t sent = 0;
    char *mine = (char *)buf + (axis ? CRTS_rid : CRTS_cid) * slice_bytes;

    received = 0;
    if (axis) {
        CRTS_ssync_col();
        CRTS_rma_col_ibcast(mine, mine, slice_bytes, &sent, &received);
    } else {
        CRTS_ssync_row();
        CRTS_rma_row_ibcast(mine, mine, slice_bytes, &sent, &received);
    }
    CRTS_rma_wait_value(&sent, 1);
    CRTS_rma_wait_value(&received, 8);
}
#else
static inline void swmlir_mesh_allgather(void *buf, int slice_bytes, int axis)
{
#ifdef SWMLIR_EMULATOR
    swmlir_emu_mesh_allgather(buf, slice_bytes, axis);
#else
    int me = athread_get_id(-1), pos = axis ? me >> 3 : me & 7, root, i;
    for (root = 0; root < 8; root++) {
        char *s = (char *)buf + root * slice_bytes;
        for (i = 0; i < slice_bytes; i += 32) {
            double bounce[4] __attribute__((aligned(32)));
            int n = slice_bytes - i < 32 ? slice_bytes - i : 32;
            doublev4 v;
            if (root == pos) {
                if (n == 32) {
                    simd_loadu(v, (double *)(s + i));
                } else {
                    memcpy(bounce, s + i, n);
                    simd_load(v, bounce);
                }
                if (axis)
                    simd_putc(v, 8);
                else
                    simd_putr(v, 8);
            } else {
                v = axis ? simd_getc(v) : simd_getr(v);
                if (n == 32) {
                    simd_storeu(v, (double *)(s + i));
                } else {
                    simd_store(v, bounce);
                    memcpy(s + i, bounce, n);
                }
            }
        }
    }
#endif
}
#endif /* SWMLIR_CRTS */

#ifndef SWMLIR_CRTS
/*
 * Regroup the output tiles of a mesh row into whole rows (sunway.mesh_gather_rows, dialects/README.md): the 8 CPEs
 * of a row hold tiles of tile_rows rows of row_bytes that lie side by side in main memory; afterwards the CPE at
 * position p holds in strip, for i < rows, row p * tile_rows / 8 + first + i of the 8 tiles one after another
 * (strip row i = rows of positions 0..7), which one put writes as rows 8 times longer. Register communication,
 * in the same turns as swmlir_mesh_allgather: each root in turn broadcasts (putr, destination 8) the rows its 7
 * peers need, 32 bytes at a time; every other CPE receives them all (getr) and keeps its own, so every receive
 * buffer sees one sender at a time and no barrier is needed. row_bytes is a multiple of 32 (sunway-gather-put-rows
 * checks it). The emulator copies between the peers' LDMs instead (same result; it counts the bytes the row bus
 * delivers).
 */
static inline void swmlir_mesh_gather_rows(const void *tile, void *strip, int tile_rows, int row_bytes, int first,
                                           int rows)
{
#ifdef SWMLIR_EMULATOR
    swmlir_emu_mesh_gather_rows(tile, strip, tile_rows, row_bytes, first, rows);
#else
    int pos = athread_get_id(-1) & 7, per = tile_rows / 8, root, j, i, b;
    for (root = 0; root < 8; root++)
        for (j = 0; j < 8; j++)            /* the rows that position j keeps */
            for (i = 0; i < rows; i++) {
                const char *src = (const char *)tile + (size_t)(j * per + first + i) * row_bytes;
                char *dst = (char *)strip + ((size_t)i * 8 + root) * row_bytes;
                for (b = 0; b < row_bytes; b += 32) {
                    doublev4 v;
                    if (root == pos) {
                        simd_loadu(v, (double *)(src + b));
                        if (j == pos)
                            simd_storeu(v, (double *)(dst + b));
                        else
                            simd_putr(v, 8);
                    } else if (j != root) {
                        v = simd_getr(v);
                        if (j == pos)
                            simd_storeu(v, (double *)(dst + b));
                    }
                }
            }
#endif
}
#endif /* !SWMLIR_CRTS */

#endif /* SWMLIR_SLAVE_HELPERS_H */
