/*
 * athread.h -- host (MPE) side of the athread API, as emulated on an ordinary Linux machine.
 *
 * swmlir emits C for the Sunway SW26010: host code calls athread_* to start kernels on the 64 CPEs.
 * Nobody here has the machine, so this header (and emulator.c) stand in for the vendor's athread.h:
 * the 64 CPEs become 64 threads, DMA becomes a checked copy with counters.
 * Only for the emulator: on the real target the vendor header is used instead.
 */
#ifndef SWMLIR_ATHREAD_H
#define SWMLIR_ATHREAD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same shape as the vendor header: the kernel k is the slave symbol slave_k. */
#define SLAVE_FUN(x) slave_##x

/* The real macro passes slave_##fn; we also pass the kernel's name, for error messages and counters. */
#define athread_spawn(fn, arg) swmlir_emu_spawn((void (*)(void *))slave_##fn, (void *)(arg), #fn)

int athread_init(void);
int athread_join(void);
int athread_halt(void);
int athread_set_num_threads(int n); /* CPEs used by the next spawns, 1..64 (default 64) */
int athread_get_num_threads(void);
int athread_get_max_threads(void);  /* 64 */

/* ---- emulator-only entry points (no equivalent on the real machine) ---- */

/* What athread_spawn expands to: run fn(arg) on every CPE; name is the kernel's name. */
int swmlir_emu_spawn(void (*fn)(void *), void *arg, const char *name);

/* Valid main-memory ranges for DMA; swmlir_alloc / swmlir_register_buffer call these. */
void swmlir_emu_register_range(const void *p, size_t bytes);
void swmlir_emu_unregister_range(const void *p);

/* Counters: forget everything counted so far; or write them as JSON now (0 on success).
 * athread_halt writes them to the file named by the env var SWMLIR_EMU_STATS, if set. */
void swmlir_emu_reset_stats(void);
int swmlir_emu_write_stats(const char *path);

/* LDM bytes per CPE in effect (SWMLIR_LDM_BYTES define, overridden by the env var of that name). */
size_t swmlir_emu_ldm_bytes(void);

#ifdef __cplusplus
}
#endif

#endif /* SWMLIR_ATHREAD_H */
