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

/* How swmlir_read_file and swmlir_write_file name a file in their one line on stderr, "<program>: error: ...". */
typedef struct {
    const char *program; /* the line's prefix: "swmlir", "swmlir-driver" */
    const char *what;    /* the file: "input 0", "weights file" (as in "cannot open input 0 'x.bin'") */
    const char *expects; /* read, wrong size: what follows "<what> '<path>' has <n> bytes" (", the model expects 96") */
    const char *memory;  /* read: NULL, a failed allocation or read is "cannot read <bytes> bytes of <what> '<path>'";
                          * else "out of memory for <bytes> bytes of <memory>", "read <got> of <bytes> bytes from ..." */
} swmlir_file_desc;

/* Reads the whole file `path`, which must have exactly `bytes` bytes, into a buffer of max(bytes, 1) bytes from
 * `alloc` (swmlir_alloc, malloc). Returns NULL, after one line on stderr (see swmlir_file_desc), if the file cannot
 * be opened or read, its size is not `bytes` or `alloc` fails; a buffer allocated is then given to `release`. */
void *swmlir_read_file(const char *path, size_t bytes, const swmlir_file_desc *d, void *(*alloc)(size_t),
                       void (*release)(void *));

/* Writes `bytes` bytes of `data` to the file `path` (created or truncated). Returns 1, or 0 after the line
 * "<program>: error: cannot write <what> '<path>'" on stderr (d->expects and d->memory are not used). */
int swmlir_write_file(const char *path, const void *data, size_t bytes, const swmlir_file_desc *d);

/* Buffers the caller owns that kernels may DMA from/to. No-ops on the real machine; under the emulator they
 * add/remove valid main-memory ranges (not guarded against direct accesses: only swmlir_alloc memory is). */
void swmlir_register_buffer(const void *p, size_t bytes);
void swmlir_unregister_buffer(const void *p);

/* Names a buffer from swmlir_alloc or swmlir_register_buffer ("input 0") in the emulator's error messages.
 * No-op on the real machine. */
void swmlir_name_buffer(const void *p, const char *name);

/* A tensor the host hands to kernels, inside a buffer: a weight's bytes in the weights, an arena slot, an input or
 * output. The emitted host registers each one it passes to a kernel, before the kernel runs (`name`: what it is, in
 * error messages). Under the emulator a DMA whose main-memory range starts in a registered tensor must end in it,
 * and one into a buffer that holds tensors must start in one of them: a DMA past a weight that stays inside the
 * weights is an error naming the weight. A registration replaces the tensors it overlaps (the memory plan reuses
 * the bytes of dead intermediates); those of a buffer end when it is freed or unregistered. A macro: nothing at all
 * on the machine. */
#ifdef SWMLIR_EMULATOR
void swmlir_emu_register_tensor(const void *p, size_t bytes, const char *name);
#define swmlir_register_tensor(p, bytes, name) swmlir_emu_register_tensor((p), (bytes), (name))
#else
#define swmlir_register_tensor(p, bytes, name) ((void)(p))
#endif

#ifdef __cplusplus
}
#endif

#endif /* SWMLIR_RUNTIME_H */
