/*
 * slave.h -- CPE side of the athread API, as emulated on an ordinary Linux machine.
 *
 * Kernels emitted by swmlir include <slave.h>; on the real SW26010 that is the vendor header, under the
 * emulator it is this one. Each CPE is a thread: its stack stands for the LDM (kernel-local arrays live there,
 * as on the real CPE), __thread_local is thread-local storage, and DMA is a synchronous, checked copy.
 * Main memory is closed to CPE code while a kernel runs: DMA is the only way to it (see below).
 * All sizes are in bytes.
 */
#ifndef SWMLIR_SLAVE_H
#define SWMLIR_SLAVE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A variable private to each CPE (in LDM on the real machine). */
#define __thread_local __thread

/* CPE ids: athread_get_id(-1) is the calling CPE (0..63; row = id >> 3, column = id & 7). */
int athread_get_id(int core);
int athread_get_core(int id);
#define _MYID (athread_get_id(-1))
/* Emulator only: the core group the calling CPE runs the kernel on (0 unless the host spawned it on several with
 * athread_spawn_cgs; swmlir_cg_id of swmlir_slave.h). */
int swmlir_emu_cg_id(void);

typedef enum { PE_MODE, BCAST_MODE, ROW_MODE, BROW_MODE, RANK_MODE } dma_mode;

/*
 * One DMA request. Contiguous when stride == 0 && bsize == 0 (or bsize == len); otherwise strided: the LDM side
 * is contiguous, the main-memory side is len / bsize blocks of bsize bytes, `stride` bytes skipped between them
 * (pitch = bsize + stride). On completion *(int *)reply is incremented by 1; the emulator completes the copy
 * before returning. Only PE_MODE is emulated.
 */
int athread_get(dma_mode mode, void *src_mem, void *dst_ldm, int len, void *reply, char mask, int stride,
                int bsize);
int athread_put(dma_mode mode, void *src_ldm, void *dst_mem, int len, void *reply, int stride, int bsize);

/*
 * The element a DMA moves. reference/sunway.md (1.3, 3.2) gives the rules of athread_get/put and CRTS_dma_*: sizes
 * in bytes, the reply word an LDM variable, 4-byte aligned; and, for CRTS, size and bsize in 18-bit descriptor
 * fields. It gives no alignment or granularity rule for the LDM and main-memory addresses or for len / stride /
 * bsize (128-byte aligned buffers are common practice, not a rule). So the emulator checks the granularity of the
 * element the code moves: both addresses and len, bsize and stride multiples of it. The element is the pointee of
 * the LDM pointer (else of the main-memory one) at the call site, by its alignment (the size of a scalar: 4 bytes
 * for float *; of an array's scalar for a pointer to rows): the calls below are macros that pass it to the
 * swmlir_emu_*_t twins. A void or char pointer (and C++, or a caller of the functions themselves: the LLVM IR
 * output) means bytes: nothing to check.
 */
#if defined(__GNUC__) && !defined(__cplusplus)
#define SWMLIR_EMU_ELEM_(p)                                                                                   \
    __alignof__(*__builtin_choose_expr(__builtin_types_compatible_p(__typeof__(*(p)), void), (char *)0, (p)))
#define SWMLIR_EMU_ELEM(ldm, mem) (SWMLIR_EMU_ELEM_(ldm) > 1 ? SWMLIR_EMU_ELEM_(ldm) : SWMLIR_EMU_ELEM_(mem))
#else
#define SWMLIR_EMU_ELEM(ldm, mem) ((size_t)1)
#endif
int swmlir_emu_athread_get_t(size_t elem, dma_mode mode, void *src_mem, void *dst_ldm, int len, void *reply,
                             char mask, int stride, int bsize);
int swmlir_emu_athread_put_t(size_t elem, dma_mode mode, void *src_ldm, void *dst_mem, int len, void *reply,
                             int stride, int bsize);
#ifndef SWMLIR_EMU_IMPL /* emulator.c defines the functions themselves */
#define athread_get(mode, mem, ldm, len, reply, mask, stride, bsize)                                          \
    swmlir_emu_athread_get_t(SWMLIR_EMU_ELEM(ldm, mem), (mode), (mem), (ldm), (len), (reply), (mask), (stride), \
                             (bsize))
#define athread_put(mode, ldm, mem, len, reply, stride, bsize)                                                \
    swmlir_emu_athread_put_t(SWMLIR_EMU_ELEM(ldm, mem), (mode), (ldm), (mem), (len), (reply), (stride), (bsize))
#endif

/* Barriers: ARRAY_SCOPE = all CPEs of the spawn (mask 0xffff), ROW_SCOPE / COL_SCOPE = the 8 CPEs of the
 * caller's row / column (mask 0xff). Only full masks are emulated. */
enum { ROW_SCOPE = 0, COL_SCOPE = 1, ARRAY_SCOPE = 2 };
int athread_syn(int scope, int mask);

/* LDM heap of the calling CPE (counted in its LDM use); ldm_free must be given the size passed to ldm_malloc.
 * The emulator empties each CPE's heap at every spawn. */
void *ldm_malloc(size_t size);
void ldm_free(void *p, size_t size);
size_t get_allocatable_size(void);

/* Emulator only: called by swmlir_dma_wait (swmlir_slave.h). DMAs complete synchronously here, so a wait
 * for a count that *reply does not already hold would spin forever: that is reported as an error. */
void swmlir_emu_dma_wait_check(volatile int *reply, int count);

/* Emulator only: the LDM buffers of a kernel (swmlir_ldm_array of swmlir_slave.h, after each local array the compiler
 * emits). Registered, an array counts in the LDM in use (and the LDM peak) whether or not a DMA touches it; a DMA,
 * an RMA, a mesh exchange or a SIMD helper whose LDM range starts in it must end in it. A registration replaces
 * those it overlaps (a scope's arrays end where another's take their place); all end at the next spawn. name: the
 * array as the C names it. */
void swmlir_emu_ldm_array(const void *p, size_t bytes, const char *name);
/* Emulator only: the check of the SIMD helpers' loads and stores (swmlir_f4_load, ...), n bytes at p. Inline, as the
 * micro-kernels load and store vectors in their innermost loops: the CPE stacks have a shadow of one tag per 4 bytes
 * (0, or the tag of the registered array there; adjacent arrays have different tags), and an access whose first and
 * last bytes have the same tag stays in one array (or in none); swmlir_emu_ldm_access, out of line, reports the
 * others. */
typedef struct {
    const char *base;           /* the CPE stacks, [base, base + len) */
    size_t len;
    const unsigned short *tags; /* tag of [base + 4 i, base + 4 i + 4) */
} swmlir_emu_ldm_shadow_t;
extern swmlir_emu_ldm_shadow_t swmlir_emu_ldm_shadow;
void swmlir_emu_ldm_access(const void *p, size_t n, const char *call);
static inline void swmlir_emu_ldm_check(const void *p, size_t n, const char *call)
{
    size_t off = (size_t)((const char *)p - swmlir_emu_ldm_shadow.base);
    if (off < swmlir_emu_ldm_shadow.len && n &&
        swmlir_emu_ldm_shadow.tags[off >> 2] != swmlir_emu_ldm_shadow.tags[(off + n - 1) >> 2])
        swmlir_emu_ldm_access(p, n, call);
}

/* Emulator only: the mesh allgather of swmlir_mesh_allgather (swmlir_slave.h), copied between the peers' LDM
 * between two barriers of the row (axis 0) or column (axis 1), and counted as mesh bytes. */
void swmlir_emu_mesh_allgather(void *buf, int slice_bytes, int axis);
/* Emulator only: the row regrouping of swmlir_mesh_gather_rows (swmlir_slave.h), copied between the peers' LDM. */
void swmlir_emu_mesh_gather_rows(const void *tile, void *strip, int tile_rows, int row_bytes, int first, int rows);

/* Main memory is reachable from CPE code only through DMA: the emulator closes it while a kernel runs and reports
 * a direct load or store (a gld/gst on the machine) as an error. The opt-in mode, for experiments: kernels built
 * with SWMLIR_EMU_COUNT_DIRECT (build.py does it for SWMLIR_EMU_DIRECT_ACCESS=count, with instrumentation of every
 * load and store) may access main memory directly, and each access is counted per kernel (gld/gst requests and
 * bytes). memcpy / memmove / memset are not instrumented by the compiler: in that mode they go through these. */
void swmlir_emu_direct_access(const void *p, size_t n, int store);
void *swmlir_emu_memcpy(void *dst, const void *src, size_t n);
void *swmlir_emu_memmove(void *dst, const void *src, size_t n);
void *swmlir_emu_memset(void *dst, int v, size_t n);

#ifdef __cplusplus
}
#endif

#ifdef SWMLIR_EMU_COUNT_DIRECT
#include <string.h> /* declared first, so that later uses take the counting versions */
#define memcpy swmlir_emu_memcpy
#define memmove swmlir_emu_memmove
#define memset swmlir_emu_memset
#endif

#endif /* SWMLIR_SLAVE_H */
