/*
 * swmlir_llvm_host.c -- host (MPE) helpers called by the LLVM IR output of swmlir (model_host.ll).
 *
 * The C host registers every tensor it hands to a kernel with swmlir_register_tensor (swmlir_runtime.h), a macro:
 * under the emulator a DMA must then stay inside the tensor it starts in; on the machine it is nothing. LLVM IR
 * calls functions, so this file compiles it out of line. Portable host code: built with the host compiler on the
 * machine (sw5cc -host, swgcc -mhost) and with gcc -DSWMLIR_HOST -DSWMLIR_EMULATOR here.
 */
#include <stddef.h>

#include "swmlir_runtime.h"

void swmlir_llvm_register_tensor(const void *p, size_t bytes, const char *name)
{
    (void)bytes;
    (void)name;
    swmlir_register_tensor(p, bytes, name);
}
