/*
 * swmlir_llvm_emulator.c -- for the emulator build of the LLVM IR output only: the vendor's spawn symbol.
 *
 * On SW26010, athread.h's `athread_spawn(k, arg)` is a macro for `__real_athread_spawn(slave_k, arg)`, a function
 * of the athread library; model_host.ll calls that function. The emulator's athread.h maps the macro to
 * swmlir_emu_spawn(fn, arg, arg_bytes, name) instead, so this file provides __real_athread_spawn on top of it.
 * The kernel's name (for the emulator's messages and per-kernel counters) is the entry's symbol without slave_
 * (dladdr: link with -rdynamic); arg_bytes is 0 because the LLVM host keeps the argument struct in main memory
 * the emulator knows (the arena), so it is passed unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include "athread.h"

int __real_athread_spawn(void *fn, void *arg)
{
    Dl_info info;
    const char *name = "kernel";

    if (dladdr(fn, &info) && info.dli_sname) {
        name = info.dli_sname;
        if (strncmp(name, "slave_", 6) == 0)
            name += 6;
    }
    return swmlir_emu_spawn((void (*)(void *))fn, arg, 0, name);
}
