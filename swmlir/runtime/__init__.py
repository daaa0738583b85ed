"""The C runtime of swmlir, and a host emulator of the Sunway athread API.

Nobody working on swmlir has a Sunway machine, yet the compiler emits C for it (host code for the MPE, kernels for
the 64 CPEs). The emulator in this package runs that C unchanged on an ordinary Linux machine: the CPEs become 64
threads, a CPE's LDM becomes its thread stack plus a small heap, and every DMA is a checked copy that is counted
(requests, bytes, block sizes, LDM use, barriers). Model correctness is judged by running the emitted C here; the
counters feed the performance model.

C files: ``include/`` (athread.h and slave.h emulate the vendor headers; swmlir_runtime.h and swmlir_slave.h are
portable and also used on the real machine), ``emulator.c``, ``swmlir_runtime.c`` (portable), ``driver.c`` (a generic
``main`` around the generated ``model.h``).
"""
from .build import (EMULATOR_EXIT_CODE, build_emulated_executable, cache_dir, driver_source, include_dir,
                    parse_time_ms, run_emulated, runtime_sources)

__all__ = ["EMULATOR_EXIT_CODE", "build_emulated_executable", "cache_dir", "driver_source", "include_dir",
           "parse_time_ms", "run_emulated", "runtime_sources"]
