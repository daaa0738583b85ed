/*
 * swmlir_slave.h -- helpers for kernels (CPE code) emitted by swmlir. Portable: the same code builds with the
 * vendor's slave.h on the SW26010 and with the emulator's slave.h on a host (SWMLIR_EMULATOR defined).
 */
#ifndef SWMLIR_SLAVE_HELPERS_H
#define SWMLIR_SLAVE_HELPERS_H

#include <slave.h>

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

#endif /* SWMLIR_SLAVE_HELPERS_H */
