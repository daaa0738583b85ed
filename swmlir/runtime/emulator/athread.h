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

/* The real macro passes slave_##fn; we also pass the kernel's name, for error messages and counters, and the size
 * of the struct arg points to (0 when arg is not a pointer to a struct or union: a void pointer, a buffer; or in
 * C++), so that the emulator can put a copy of the argument struct in main memory the kernels reach by DMA only
 * (see swmlir_emu_spawn). 12 and 13 are GCC's and Clang's type classes of structs and unions. */
#if defined(__GNUC__) && !defined(__cplusplus)
#define SWMLIR_EMU_ARG_PTR_(arg)                                                                              \
    __builtin_choose_expr(__builtin_types_compatible_p(__typeof__(*(arg)), void), (char *)0, (arg))
#define SWMLIR_EMU_ARG_BYTES(arg)                                                                             \
    ((__builtin_classify_type(*SWMLIR_EMU_ARG_PTR_(arg)) == 12 ||                                             \
      __builtin_classify_type(*SWMLIR_EMU_ARG_PTR_(arg)) == 13)                                                \
         ? sizeof(*SWMLIR_EMU_ARG_PTR_(arg))                                                                   \
         : (size_t)0)
#else
#define SWMLIR_EMU_ARG_BYTES(arg) ((size_t)0)
#endif
#define athread_spawn(fn, arg)                                                                                \
    swmlir_emu_spawn((void (*)(void *))slave_##fn, (void *)(arg), SWMLIR_EMU_ARG_BYTES(arg), #fn)

int athread_init(void);
int athread_join(void);

/* Several core groups, as on SW26010-Pro (athread_init_cgs / athread_spawn_cgs / athread_join_cgs: one process
 * drives every CG of the job, `-mpecg N`; on the CPEs the CG is CRTS_cgn, the global CPE id CRTS_cgn * 64 +
 * CRTS_tid). The emulator runs a kernel spawned on N CGs on each CG in turn, on the same 64 CPE threads, and
 * counts each CG apart (one launch record, with a record per CG). N is SWMLIR_CGS where athread_init_cgs is
 * called (the host C of swmlir compile --cgs N defines it before its includes); 0 (the default) takes the env var
 * SWMLIR_EMU_CGS, else 1. */
#ifndef SWMLIR_CGS
#define SWMLIR_CGS 0
#endif
#define athread_init_cgs() swmlir_emu_init_cgs(SWMLIR_CGS)
#define athread_spawn_cgs(fn, arg)                                                                            \
    swmlir_emu_spawn_cgs((void (*)(void *))slave_##fn, (void *)(arg), SWMLIR_EMU_ARG_BYTES(arg), #fn)
int athread_join_cgs(void);
int swmlir_emu_init_cgs(int cgs);
int swmlir_emu_spawn_cgs(void (*fn)(void *), void *arg, size_t arg_bytes, const char *name);
int athread_halt(void);
int athread_set_num_threads(int n); /* CPEs used by the next spawns, 1..64 (default 64) */
int athread_get_num_threads(void);
int athread_get_max_threads(void);  /* 64 */

/* ---- emulator-only entry points (no equivalent on the real machine) ---- */

/* What athread_spawn expands to: run fn(arg) on every CPE; name is the kernel's name. If arg_bytes > 0 (arg
 * points to a struct) and arg is not inside a registered buffer, the CPEs get the address of a copy of those bytes in guarded main memory
 * (copied back at athread_join if the kernel changed it): like every main-memory datum, a kernel reads its
 * argument struct by DMA. */
int swmlir_emu_spawn(void (*fn)(void *), void *arg, size_t arg_bytes, const char *name);

/* Valid main-memory ranges for DMA; swmlir_alloc / swmlir_register_buffer call these. name: what the buffer is
 * ("the weights", "input 0"), for error messages. */
void swmlir_emu_register_range(const void *p, size_t bytes);
void swmlir_emu_unregister_range(const void *p);
void swmlir_emu_name_range(const void *p, const char *name);

/* Main memory shared with the kernels (swmlir_alloc / swmlir_free under the emulator): pages of a shared-memory
 * object whose program view is closed from athread_spawn to athread_join, so that CPE code that dereferences a
 * main-memory pointer is stopped with an error (it is a gld/gst on the machine, invisible to the DMA counters).
 * *handled = 0 when the emulator does not provide it (under a sanitizer runtime): the caller then allocates
 * ordinary, unguarded memory. swmlir_emu_free returns 0 for memory that is not the emulator's. */
void *swmlir_emu_alloc(size_t bytes, int *handled);
int swmlir_emu_free(void *p);

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
