/*
 * swmlir_llvm_emulator.c -- for the emulator build of the LLVM IR output only: the vendor's spawn symbols.
 *
 * athread.h's `athread_spawn(k, arg)` is a macro for `__real_athread_spawn(slave_k, arg)` on SW26010 and for
 * `__real_athread_spawn(slave_k, arg, 1)` on SW26010-Pro (third argument: flush the slave data cache), and Pro's
 * `athread_spawn_cgs(k, arg)` for `__real_athread_spawn_cgs(slave_k, arg, 1)`, functions of the athread library;
 * model_host.ll calls those functions, and athread_init_cgs, a function on Pro. The emulator's athread.h maps
 * the macros to swmlir_emu_spawn / swmlir_emu_spawn_cgs (fn, arg, arg_bytes, name) and swmlir_emu_init_cgs
 * instead, so this file provides the symbols on top of them: the 3-argument spawn when built with -DSWMLIR_CRTS
 * (a CRTS target), the core-group count of athread_init_cgs from -DSWMLIR_CGS=N (the build of a --cgs N output;
 * on the machine the job's -mpecg N sets it). The kernel's name (for the emulator's messages and per-kernel
 * counters) is the entry's symbol without slave_ (dladdr: link with -rdynamic); arg_bytes is 0 because the LLVM
 * host keeps the argument struct in main memory the emulator knows (the arena), so it is passed unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include "athread.h"

static const char *kernel_name(void *fn)
{
    Dl_info info;
    const char *name = "kernel";

    if (dladdr(fn, &info) && info.dli_sname) {
        name = info.dli_sname;
        if (strncmp(name, "slave_", 6) == 0)
            name += 6;
    }
    return name;
}

#ifdef SWMLIR_CRTS
int __real_athread_spawn(void *fn, void *arg, int flush_slave_dcache)
{
    (void)flush_slave_dcache;
    return swmlir_emu_spawn((void (*)(void *))fn, arg, 0, kernel_name(fn));
}
#else
int __real_athread_spawn(void *fn, void *arg)
{
    return swmlir_emu_spawn((void (*)(void *))fn, arg, 0, kernel_name(fn));
}
#endif

int __real_athread_spawn_cgs(void *fn, void *arg, int flush_slave_dcache)
{
    (void)flush_slave_dcache;
    return swmlir_emu_spawn_cgs((void (*)(void *))fn, arg, 0, kernel_name(fn));
}

#undef athread_init_cgs
int athread_init_cgs(void)
{
    return swmlir_emu_init_cgs(SWMLIR_CGS);
}
