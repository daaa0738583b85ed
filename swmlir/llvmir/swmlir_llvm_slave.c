/*
 * swmlir_llvm_slave.c -- slave (CPE) helpers called by the LLVM IR output of swmlir (model_slave.ll).
 *
 * The C output calls swmlir_dma_wait, swmlir_mesh_allgather and swmlir_mesh_gather_rows, static inline functions of swmlir_slave.h; LLVM IR
 * can only call functions that exist in some object, so this file compiles them out of line, under names of
 * their own. Portable: built with the slave compiler on the machine (sw5cc -slave, with the vendor's slave.h)
 * and with gcc -DSWMLIR_SLAVE -DSWMLIR_EMULATOR against the emulator here.
 */
#include "swmlir_slave.h"

void swmlir_llvm_dma_wait(volatile int *reply, int count)
{
    swmlir_dma_wait(reply, count);
}

void swmlir_llvm_mesh_allgather(void *buf, int slice_bytes, int axis)
{
    swmlir_mesh_allgather(buf, slice_bytes, axis);
}

#ifndef SWMLIR_CRTS   /* register communication: SW26010 only */
void swmlir_llvm_mesh_gather_rows(const void *tile, void *strip, int tile_rows, int row_bytes, int first, int rows)
{
    swmlir_mesh_gather_rows(tile, strip, tile_rows, row_bytes, first, rows);
}
#endif
