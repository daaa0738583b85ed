/*
 * direct_count.c -- the opt-in mode in which CPE code may load and store main memory directly, each access
 * counted (gld/gst requests and bytes per kernel in the emulator's counters).
 *
 * Linked only into programs whose kernels (slave sources) are built for it, which build.py does for
 * SWMLIR_EMU_DIRECT_ACCESS=count: the kernels are compiled with -DSWMLIR_EMU_COUNT_DIRECT and the compiler's
 * kernel-address-sanitizer instrumentation in its outline form, which calls a hook before every load and store
 * (__asan_loadN_noabort / __asan_storeN_noabort; no shadow memory, no sanitizer runtime). These hooks pass the
 * address and size to the emulator, which counts the accesses that fall in main memory shared with the kernels
 * from CPE threads. Loading this file also tells the emulator not to close main memory during spawns.
 * Not for programs built with a real sanitizer runtime (the hooks would take the runtime's names).
 */
#include <stddef.h>
#include <stdint.h>

void swmlir_emu_direct_access(const void *p, size_t n, int store);
void swmlir_emu_count_direct_accesses(void);

static void __attribute__((constructor)) swmlir_direct_count_init(void)
{
    swmlir_emu_count_direct_accesses();
}

#define SWMLIR_HOOKS(N)                                                                                       \
    void __asan_load##N##_noabort(uintptr_t a);                                                              \
    void __asan_store##N##_noabort(uintptr_t a);                                                             \
    void __asan_load##N##_noabort(uintptr_t a) { swmlir_emu_direct_access((const void *)a, N, 0); }          \
    void __asan_store##N##_noabort(uintptr_t a) { swmlir_emu_direct_access((const void *)a, N, 1); }

SWMLIR_HOOKS(1)
SWMLIR_HOOKS(2)
SWMLIR_HOOKS(4)
SWMLIR_HOOKS(8)
SWMLIR_HOOKS(16)

void __asan_loadN_noabort(uintptr_t a, size_t n);
void __asan_storeN_noabort(uintptr_t a, size_t n);
void __asan_handle_no_return(void);

void __asan_loadN_noabort(uintptr_t a, size_t n)
{
    swmlir_emu_direct_access((const void *)a, n, 0);
}

void __asan_storeN_noabort(uintptr_t a, size_t n)
{
    swmlir_emu_direct_access((const void *)a, n, 1);
}

void __asan_handle_no_return(void)
{
}
