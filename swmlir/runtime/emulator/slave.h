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
