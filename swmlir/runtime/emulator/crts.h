/*
 * crts.h -- the CRTS API of SW26010-Pro, as emulated on an ordinary Linux machine.
 *
 * swmlir emits C for SW26010-Pro against the vendor's crts.h: host (MPE) code calls CRTS_init and athread_spawn /
 * athread_join, kernels (CPE code) use CRTS_tid, CRTS_dma_iget / iput (and the _stride forms) with crts_rply_t
 * reply words, CRTS_dma_wait_value, CRTS_ssync_array and RMA row/column broadcasts. Like the vendor header this
 * is one file with a host and a slave part; the vendor's picks the part by __sw_host__ / __sw_slave__ (defined
 * by swgcc -mhost / -mslave), this one also by SWMLIR_HOST / SWMLIR_SLAVE, the defines the emulator builds
 * give host and slave sources (swmlir/runtime/build.py, the package's CMakeLists.txt). emulator.c sees both
 * parts (SWMLIR_EMU_CRTS_IMPL).
 *
 * The emulator runs CRTS kernels on the same 64 CPE threads as athread ones, with the same checks (LDM side in
 * the caller's LDM, main-memory side inside one registered buffer, LDM use <= SWMLIR_LDM_BYTES) and the same
 * counters (requests, bytes, block sizes, barriers, launches): an athread request and its CRTS twin are counted
 * alike. Only for the emulator: on the machine the vendor's crts.h is used instead. All sizes are in bytes.
 */
#ifndef SWMLIR_CRTS_H
#define SWMLIR_CRTS_H

#include <stddef.h>

#if defined(SWMLIR_EMU_CRTS_IMPL) || defined(__sw_host__) ||                                                    \
    (defined(SWMLIR_HOST) && !defined(__sw_slave__) && !defined(SWMLIR_SLAVE))
#define SWMLIR_CRTS_HOST_PART 1
#endif
#if defined(SWMLIR_EMU_CRTS_IMPL) || defined(__sw_slave__) || defined(SWMLIR_SLAVE)
#define SWMLIR_CRTS_SLAVE_PART 1
#endif
#if !defined(SWMLIR_CRTS_HOST_PART) && !defined(SWMLIR_CRTS_SLAVE_PART)
#define SWMLIR_CRTS_HOST_PART 1 /* neither side named: a host source, as in a plain C program */
#endif

/* ---- host (MPE) part ------------------------------------------------------------------------------------ */
#ifdef SWMLIR_CRTS_HOST_PART
/* As in the vendor header, the host part is the athread host API (athread_spawn(f, arg) starts slave_f on the
 * 64 CPEs, athread_join waits, athread_halt ends) plus CRTS_init and the CRTS_athread_* aliases. */
#include "athread.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Start the CPEs of this core group (the emulator's 64 threads); must precede every spawn. 0 on success. */
int CRTS_init(void);
#ifdef __cplusplus
}
#endif

#define CRTS_athread_spawn athread_spawn
#define CRTS_athread_join athread_join
#define CRTS_athread_halt athread_halt
#define CRTS_athread_get_max_threads athread_get_max_threads
#endif /* SWMLIR_CRTS_HOST_PART */

/* ---- slave (CPE) part ----------------------------------------------------------------------------------- */
#ifdef SWMLIR_CRTS_SLAVE_PART
/* The slave part builds on slave.h, as the vendor's does: __thread_local, ldm_malloc, and the emulator's hooks. */
#include "slave.h"

#ifdef __cplusplus
extern "C" {
#endif

/* LDM data at the same address in every CPE (the vendor's qualifier; crts.h declares its RMA reply words so). */
#define __thread_local_fix __thread

/* A reply word: incremented by 1 when each request issued on it completes. An LDM variable. */
typedef volatile int crts_rply_t;

/* The calling CPE: its id 0..63, its row and column of the 8x8 mesh (id = 8 * row + column), its core group. */
int swmlir_emu_crts_id(int what); /* 0: id, 1: row, 2: column, 3: core group */
#define CRTS_tid (swmlir_emu_crts_id(0))
#define CRTS_rid (swmlir_emu_crts_id(1))
#define CRTS_cid (swmlir_emu_crts_id(2))
#define CRTS_cgn (swmlir_emu_crts_id(3))

/* LDM heap of the calling CPE (the same heap as ldm_malloc). */
#define CRTS_MAX_LDM_SIZE (256 << 10)
#define CRTS_pldm_malloc ldm_malloc
#define CRTS_pldm_free ldm_free
#define CRTS_pldm_get_free_size get_allocatable_size

/*
 * DMA between main memory and the caller's LDM. The i-forms return at once and increment *rply when the request
 * has completed (in the emulator: before they return); the others block. Contiguous: len bytes. Strided: the
 * LDM side is contiguous, the main-memory side is len / bsize blocks of bsize bytes with `stride` bytes skipped
 * between them (pitch = bsize + stride).
 */
int CRTS_dma_iget(void *ldm, const void *mem, int len, crts_rply_t *rply);
int CRTS_dma_iput(void *mem, const void *ldm, int len, crts_rply_t *rply);
int CRTS_dma_iget_stride(void *ldm, const void *mem, int len, int bsize, int stride, crts_rply_t *rply);
int CRTS_dma_iput_stride(void *mem, const void *ldm, int len, int bsize, int stride, crts_rply_t *rply);
int CRTS_dma_get(void *ldm, const void *mem, int len);
int CRTS_dma_put(void *mem, const void *ldm, int len);
int CRTS_dma_get_stride(void *ldm, const void *mem, int len, int bsize, int stride);
int CRTS_dma_put_stride(void *mem, const void *ldm, int len, int bsize, int stride);
/* The same calls with the element at the call site (SWMLIR_EMU_ELEM of slave.h): the macros below make every
 * CRTS_dma_* of kernel code one of these, so that the emulator checks the element's granularity. */
int swmlir_emu_crts_dma_t(size_t elem, int form, void *mem, void *ldm, int len, int bsize, int stride,
                          crts_rply_t *rply);
enum { SWMLIR_EMU_CRTS_IGET, SWMLIR_EMU_CRTS_IPUT, SWMLIR_EMU_CRTS_IGET_STRIDE, SWMLIR_EMU_CRTS_IPUT_STRIDE,
       SWMLIR_EMU_CRTS_GET, SWMLIR_EMU_CRTS_PUT, SWMLIR_EMU_CRTS_GET_STRIDE, SWMLIR_EMU_CRTS_PUT_STRIDE };
#ifndef SWMLIR_EMU_IMPL
#define SWMLIR_EMU_CRTS_(form, mem, ldm, len, bsize, stride, rply)                                           \
    swmlir_emu_crts_dma_t(SWMLIR_EMU_ELEM(ldm, mem), SWMLIR_EMU_CRTS_##form, (void *)(mem), (void *)(ldm),   \
                          (len), (bsize), (stride), (rply))
#define CRTS_dma_iget(ldm, mem, len, rply) SWMLIR_EMU_CRTS_(IGET, mem, ldm, len, 0, 0, rply)
#define CRTS_dma_iput(mem, ldm, len, rply) SWMLIR_EMU_CRTS_(IPUT, mem, ldm, len, 0, 0, rply)
#define CRTS_dma_iget_stride(ldm, mem, len, bsize, stride, rply)                                              \
    SWMLIR_EMU_CRTS_(IGET_STRIDE, mem, ldm, len, bsize, stride, rply)
#define CRTS_dma_iput_stride(mem, ldm, len, bsize, stride, rply)                                              \
    SWMLIR_EMU_CRTS_(IPUT_STRIDE, mem, ldm, len, bsize, stride, rply)
#define CRTS_dma_get(ldm, mem, len) SWMLIR_EMU_CRTS_(GET, mem, ldm, len, 0, 0, (crts_rply_t *)0)
#define CRTS_dma_put(mem, ldm, len) SWMLIR_EMU_CRTS_(PUT, mem, ldm, len, 0, 0, (crts_rply_t *)0)
#define CRTS_dma_get_stride(ldm, mem, len, bsize, stride)                                                     \
    SWMLIR_EMU_CRTS_(GET_STRIDE, mem, ldm, len, bsize, stride, (crts_rply_t *)0)
#define CRTS_dma_put_stride(mem, ldm, len, bsize, stride)                                                     \
    SWMLIR_EMU_CRTS_(PUT_STRIDE, mem, ldm, len, bsize, stride, (crts_rply_t *)0)
#endif
/* Spin until *rply >= value. DMAs complete when issued here, so a wait for more than *rply holds would spin
 * forever: the emulator reports it as an error. */
int CRTS_dma_wait_value(crts_rply_t *rply, int value);

/* Barriers of all CPEs of the spawn, of the caller's row, of its column. */
int CRTS_ssync_array(void);
int CRTS_ssync_row(void);
int CRTS_ssync_col(void);

/*
 * RMA broadcast over the caller's row (column) of the mesh: len bytes at src in the caller's LDM are written to
 * address dst in the LDM of every CPE of the row (column), the caller included; *l_rply (caller's LDM) is
 * incremented when the send is done, and in every receiver the reply word at address r_rply of its LDM when the
 * data has arrived. dst and r_rply are LDM addresses valid in every receiver: on the machine the same 18-bit LDM
 * offset in each CPE; the emulator maps them by their place in the caller's LDM (stack offset below the LDM top,
 * ldm_malloc offset, __thread_local offset) to the same place in each receiver's, and checks them there.
 */
int CRTS_rma_row_ibcast(void *dst, const void *src, int len, crts_rply_t *l_rply, crts_rply_t *r_rply);
int CRTS_rma_col_ibcast(void *dst, const void *src, int len, crts_rply_t *l_rply, crts_rply_t *r_rply);
/* Spin until *rply >= value; remote writes (RMA from other CPEs) do arrive while it waits. A wait no CPE can
 * still satisfy (all others returned or waiting) is reported as a deadlock. */
int CRTS_rma_wait_value(crts_rply_t *rply, int value);

#ifdef __cplusplus
}
#endif
#endif /* SWMLIR_CRTS_SLAVE_PART */

#endif /* SWMLIR_CRTS_H */
