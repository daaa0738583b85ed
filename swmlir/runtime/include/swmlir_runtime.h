/*
 * swmlir_runtime.h -- support code called by the host (MPE) code that swmlir emits.
 * Portable C99: also compiled for the real Sunway host (sw5cc -host). Under SWMLIR_EMULATOR the buffers are
 * registered with the emulator, which then checks that every DMA stays inside one of them, and they are the
 * emulator's guarded main memory: CPE code may reach them only by DMA (a direct load or store is an error).
 */
#ifndef SWMLIR_RUNTIME_H
#define SWMLIR_RUNTIME_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Main memory for tensors: 128-byte aligned (DMA-friendly), zero-filled; NULL if out of memory.
 * Release with swmlir_free (not free). */
void *swmlir_alloc(size_t bytes);
void swmlir_free(void *p);

/* Reads the whole weights file into a buffer from swmlir_alloc. Returns NULL, after one line on stderr, if the
 * file cannot be read or its size is not expected_bytes. expected_bytes == 0: no file is read (path may be NULL)
 * and a small valid buffer is returned. */
void *swmlir_load_weights(const char *path, size_t expected_bytes);

/* Buffers the caller owns that kernels may DMA from/to. No-ops on the real machine; under the emulator they
 * add/remove valid main-memory ranges (not guarded against direct accesses: only swmlir_alloc memory is). */
void swmlir_register_buffer(const void *p, size_t bytes);
void swmlir_unregister_buffer(const void *p);

/* Names a buffer from swmlir_alloc or swmlir_register_buffer ("input 0") in the emulator's error messages.
 * No-op on the real machine. */
void swmlir_name_buffer(const void *p, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* SWMLIR_RUNTIME_H */
