"""The C runtime of swmlir, and a host emulator of the Sunway athread API.

Nobody working on swmlir has a Sunway machine, yet the compiler emits C for it (host code for the MPE, kernels for
the 64 CPEs). The emulator in this package runs that C unchanged on an ordinary Linux machine: the CPEs become 64
threads, a CPE's LDM becomes its thread stack plus a small heap, and every DMA is a checked copy that is counted
(requests, bytes, block sizes, LDM use, barriers). Model correctness is judged by running the emitted C here; the
counters feed the performance model.

C files: ``include/`` (swmlir_runtime.h and swmlir_slave.h: portable, also used on the real machine), ``emulator/``
(athread.h, slave.h and crts.h: the emulator's stand-ins for the vendor headers of athread and of CRTS, on the
include path of emulator builds only), ``emulator.c``, ``swmlir_runtime.c`` (portable), ``driver.c`` (a generic ``main`` around the generated
``model.h``), ``direct_count.c`` (hooks of the opt-in direct-access mode), ``CMakeLists.txt`` (the emulator as a
CMake library). An emitted package carries a copy of the files it needs (``PACKAGE_FILES``) under ``runtime/``.
"""
from .build import (EMULATOR_EXIT_CODE, PACKAGE_FILES, build_emulated_executable, cache_dir, driver_source,
                    emulator_include_dir, include_dir, include_dirs, package_files, parse_time_ms, run_emulated,
                    runtime_sources)

__all__ = ["EMULATOR_EXIT_CODE", "PACKAGE_FILES", "build_emulated_executable", "cache_dir", "driver_source",
           "emulator_include_dir", "include_dir", "include_dirs", "package_files", "parse_time_ms", "run_emulated",
           "runtime_sources"]
