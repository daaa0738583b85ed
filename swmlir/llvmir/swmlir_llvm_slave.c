/*
 * swmlir_llvm_slave.c -- slave (CPE) helpers called by the LLVM IR output of swmlir (model_slave.ll).
 *
 * The C output calls swmlir_dma_wait, swmlir_mesh_allgather and swmlir_mesh_gather_rows, static inline functions
 * of swmlir_slave.h, and names the CPE and its core group with macros (athread's swmlir_cg_id, CRTS_tid / _rid /
 * _cid / _cgn, which the vendor's crts.h defines as registers); LLVM IR can only call functions that exist in some
 * object, so this file compiles them out of line, under names of their own. Portable: built with the slave
 * compiler on the machine (sw5cc -slave with the vendor's slave.h; swgcc -mslave with its crts.h and
 * -DSWMLIR_CRTS for SW26010-Pro) and with gcc -DSWMLIR_SLAVE -DSWMLIR_EMULATOR [-DSWMLIR_CRTS] against the
 * emulator here.
 */
#include <stddef.h>

#include "swmlir_slave.h"

void swmlir_llvm_dma_wait(volatile int *reply, int count)
{
    swmlir_dma_wait(reply, count);
}

void swmlir_llvm_mesh_allgather(void *buf, int slice_bytes, int axis)
{
    swmlir_mesh_allgather(buf, slice_bytes, axis);
}

/* An LDM array of a kernel (the C output's swmlir_ldm_array(buf, bytes) after each local array): the emulator
 * registers it under `name`; nothing on the machine. */
void swmlir_llvm_ldm_array(void *buf, size_t bytes, const char *name)
{
#ifdef SWMLIR_EMULATOR
    swmlir_emu_ldm_array(buf, bytes, name);
#else
    (void)buf;
    (void)bytes;
    (void)name;
#endif
}

#ifdef SWMLIR_CRTS
/* The calling CPE under CRTS: its id 0..63, row and column of the 8x8 mesh, and core group. */
int swmlir_llvm_crts_tid(void)
{
    return CRTS_tid;
}

int swmlir_llvm_crts_rid(void)
{
    return CRTS_rid;
}

int swmlir_llvm_crts_cid(void)
{
    return CRTS_cid;
}

int swmlir_llvm_crts_cgn(void)
{
    return CRTS_cgn;
}

#ifndef SWMLIR_EMULATOR
/*
 * The vendor's crts.h makes the DMA calls, the wait and the barrier macros (over __builtin_sw_slave_athread_dma
 * and inline assembly), so no library has them as symbols; model_slave.ll calls them as functions of the same
 * names and arguments as in C. Each static function below expands the vendor's macro; after the #undef, the
 * external function of the macro's name calls it. (The emulator's crts.h has them as functions already.)
 */
static int swmlir_llvm_iget_(void *ldm, const void *mem, int len, crts_rply_t *rply)
{
    return CRTS_dma_iget(ldm, (void *)mem, len, rply);
}

static int swmlir_llvm_iput_(void *mem, const void *ldm, int len, crts_rply_t *rply)
{
    return CRTS_dma_iput(mem, (void *)ldm, len, rply);
}

static int swmlir_llvm_iget_stride_(void *ldm, const void *mem, int len, int bsize, int stride, crts_rply_t *rply)
{
    return CRTS_dma_iget_stride(ldm, (void *)mem, len, bsize, stride, rply);
}

static int swmlir_llvm_iput_stride_(void *mem, const void *ldm, int len, int bsize, int stride, crts_rply_t *rply)
{
    return CRTS_dma_iput_stride(mem, (void *)ldm, len, bsize, stride, rply);
}

static int swmlir_llvm_wait_value_(crts_rply_t *rply, int value)
{
    return CRTS_dma_wait_value(rply, value);
}

static int swmlir_llvm_ssync_array_(void)
{
    return CRTS_ssync_array();
}

#undef CRTS_dma_iget
#undef CRTS_dma_iput
#undef CRTS_dma_iget_stride
#undef CRTS_dma_iput_stride
#undef CRTS_dma_wait_value
#undef CRTS_ssync_array

int CRTS_dma_iget(void *ldm, const void *mem, int len, crts_rply_t *rply)
{
    return swmlir_llvm_iget_(ldm, mem, len, rply);
}

int CRTS_dma_iput(void *mem, const void *ldm, int len, crts_rply_t *rply)
{
    return swmlir_llvm_iput_(mem, ldm, len, rply);
}

int CRTS_dma_iget_stride(void *ldm, const void *mem, int len, int bsize, int stride, crts_rply_t *rply)
{
    return swmlir_llvm_iget_stride_(ldm, mem, len, bsize, stride, rply);
}

int CRTS_dma_iput_stride(void *mem, const void *ldm, int len, int bsize, int stride, crts_rply_t *rply)
{
    return swmlir_llvm_iput_stride_(mem, ldm, len, bsize, stride, rply);
}

int CRTS_dma_wait_value(crts_rply_t *rply, int value)
{
    return swmlir_llvm_wait_value_(rply, value);
}

int CRTS_ssync_array(void)
{
    return swmlir_llvm_ssync_array_();
}
#endif /* !SWMLIR_EMULATOR */

#else /* athread */
#ifdef SWMLIR_EMULATOR   /* several core groups with athread: the emulator's form only (swmlir_slave.h) */
int swmlir_llvm_cg_id(void)
{
    return swmlir_cg_id();
}
#endif

void swmlir_llvm_mesh_gather_rows(const void *tile, void *strip, int tile_rows, int row_bytes, int first, int rows)
{
    swmlir_mesh_gather_rows(tile, strip, tile_rows, row_bytes, first, rows);
}
#endif /* SWMLIR_CRTS */
