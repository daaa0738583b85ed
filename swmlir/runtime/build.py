"""Build emitted C against the athread emulator with gcc, and run the result.

The objects that do not depend on the model (emulator, runtime) are compiled once per (compiler, flags, LDM size,
sources) and cached in ``$SWMLIR_CACHE_DIR`` (default ``~/.cache/swmlir``); cache entries are written under a temporary
name and renamed into place, so concurrent builds (pytest-xdist workers) never see a partial object.

Direct accesses: by default the emulator closes main memory to CPE code while a kernel runs (DMA is the only way
in; a direct load or store stops the program with status 3, see emulator.c). ``SWMLIR_EMU_DIRECT_ACCESS=count`` in
the environment of the build (or ``direct_access="count"``) builds the opt-in mode instead: the kernels are
instrumented so that every load and store calls a hook (direct_count.c), main memory stays open, and each direct
access is counted per kernel as gld/gst requests and bytes in the counters file; the performance model charges
them (swmlir/sim/direct.py). Kernels run several times slower in that mode; it cannot be combined with a
sanitizer (the hooks take AddressSanitizer's names).

Sanitizers: ``$SWMLIR_EMU_CFLAGS`` (e.g. ``-fsanitize=address,undefined`` or ``-fsanitize=thread``) is added to
the compilation of every object, the emulator's and the runtime's included (they are cached per flags), and to
the link; unset, builds are unchanged. scripts/sanitize.sh builds and runs the end-to-end models that way
(swmlir/testing/sanitize.py).
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_INCLUDE = _HERE / "include"            # portable: what the emitted code includes on the machine too
_EMU_INCLUDE = _HERE / "emulator"       # the emulator's stand-ins for the vendor's athread.h and slave.h
_EMULATOR_C = _HERE / "emulator.c"
_RUNTIME_C = _HERE / "swmlir_runtime.c"
_DRIVER_C = _HERE / "driver.c"
_DRIVER_MPI_C = _HERE / "driver_mpi.c"   # main() of the MPI variant: the batch split over the ranks (swmlir/mpi.py)
_DIRECT_COUNT_C = _HERE / "direct_count.c"
DIRECT_ACCESS_MODES = ("guard", "count")

# Flags of the runtime's own objects; they are part of the cache key.
_RUNTIME_WARNINGS = ("-Wall", "-Wextra")
_STD = ("-std=gnu99", "-fPIC", "-pthread")

EMULATOR_EXIT_CODE = 3  # status of a process stopped by an emulator error


def include_dir() -> str:
    """Directory of the portable headers, swmlir_runtime.h and swmlir_slave.h: emitted code includes them on the
    Sunway machine too (with the vendor's athread.h and slave.h)."""
    return str(_INCLUDE)


def emulator_include_dir() -> str:
    """Directory of the emulator's athread.h and slave.h, stand-ins for the vendor headers: on the include path of
    emulator builds only, never of the Sunway build (they would shadow the vendor's)."""
    return str(_EMU_INCLUDE)


def include_dirs(*, emulator: bool = True) -> list[str]:
    """The include path of emitted code: the emulator's headers (when ``emulator``), then the portable ones."""
    return ([str(_EMU_INCLUDE)] if emulator else []) + [str(_INCLUDE)]


# What an emitted package needs of the runtime, as paths relative to this folder: copied into the output folder
# under runtime/ (codegen/files.py), so that it builds with no path to the swmlir installation.
PACKAGE_FILES = ("CMakeLists.txt", "swmlir_runtime.c", "driver.c", "emulator.c", "include/swmlir_runtime.h",
                 "include/swmlir_slave.h", "emulator/athread.h", "emulator/slave.h", "emulator/crts.h")


def package_files() -> dict[str, str]:
    """Relative path -> text of the runtime files an emitted package carries (see PACKAGE_FILES)."""
    return {rel: (_HERE / rel).read_text() for rel in PACKAGE_FILES}


def runtime_sources(*, emulator: bool = True) -> list[str]:
    """C sources to link with a model: the portable host runtime, plus the emulator unless ``emulator=False``
    (for the real Sunway machine, where the vendor's athread library is used)."""
    return [str(_RUNTIME_C)] + ([str(_EMULATOR_C)] if emulator else [])


def driver_source() -> str:
    """The generic ``main`` (includes the compiler-generated ``model.h``)."""
    return str(_DRIVER_C)


def driver_mpi_source() -> str:
    """The ``main`` of the MPI variant (rank 0 scatters the batch, gathers the outputs; see driver_mpi.c)."""
    return str(_DRIVER_MPI_C)


def mpi_compiler() -> str:
    """The MPI compiler wrapper of this machine: ``$SWMLIR_MPICC``, else ``mpicc`` (Open MPI's, wrapping gcc)."""
    cc = os.environ.get("SWMLIR_MPICC") or shutil.which("mpicc")
    if not cc:
        raise RuntimeError("no MPI compiler found (tried $SWMLIR_MPICC, mpicc): install Open MPI "
                           "(apt-get install openmpi-bin libopenmpi-dev; scripts/setup.sh does it as root)")
    return cc


def cache_dir() -> Path:
    return Path(os.environ.get("SWMLIR_CACHE_DIR") or Path.home() / ".cache" / "swmlir")


def _compiler() -> str:
    cc = os.environ.get("SWMLIR_CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise RuntimeError("no C compiler found (tried $SWMLIR_CC, gcc, cc)")
    return cc


def extra_emulator_cflags() -> list[str]:
    """``$SWMLIR_EMU_CFLAGS`` split as a shell would (empty when unset): flags of every object and the link."""
    return shlex.split(os.environ.get("SWMLIR_EMU_CFLAGS", ""))


def direct_access_mode(direct_access: str | None = None) -> str:
    """``direct_access`` or, when None, ``$SWMLIR_EMU_DIRECT_ACCESS`` (default "guard"); checked."""
    mode = direct_access if direct_access is not None else (os.environ.get("SWMLIR_EMU_DIRECT_ACCESS") or "guard")
    if mode not in DIRECT_ACCESS_MODES:
        raise ValueError(f"direct access mode '{mode}' (SWMLIR_EMU_DIRECT_ACCESS): one of {', '.join(DIRECT_ACCESS_MODES)}")
    return mode


def _count_direct_flags(cc: str) -> list[str]:
    """Kernel-address instrumentation in its outline form: a hook call before every load and store, no shadow
    memory, no runtime (the hooks are direct_count.c); stack and globals untouched (no redzones in the LDM)."""
    params = ("asan-instrumentation-with-call-threshold=0", "asan-stack=0", "asan-globals=0")
    version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    if "clang" in version.lower():
        extra = [x for p in params for x in ("-mllvm", "-" + p)]
    else:
        extra = [f"--param={p}" for p in params]
    return ["-DSWMLIR_EMU_COUNT_DIRECT", "-fsanitize=kernel-address", *extra]


def _run_cc(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"C compilation failed (exit {proc.returncode}): {shlex.join(cmd)}\n{proc.stderr.strip()}")


def _runtime_key(cc: str, flags: list[str]) -> str:
    h = hashlib.sha256()
    resolved = shutil.which(cc) or cc
    try:
        st = os.stat(resolved)
        h.update(f"{resolved}:{st.st_size}:{st.st_mtime_ns}".encode())
    except OSError:
        h.update(resolved.encode())
    h.update("\0".join(flags).encode())
    for src in sorted([_EMULATOR_C, _RUNTIME_C, *_INCLUDE.glob("*.h"), *_EMU_INCLUDE.glob("*.h")]):
        h.update(src.name.encode())
        h.update(src.read_bytes())
    return h.hexdigest()[:24]


def _cached_runtime_objects(cc: str, flags: list[str]) -> list[str]:
    """Objects of the emulator and the runtime, compiled once per key and reused."""
    entry = cache_dir() / "runtime" / _runtime_key(cc, flags)
    entry.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in (_EMULATOR_C, _RUNTIME_C):
        obj = entry / (src.stem + ".o")
        if not obj.exists():
            fd, tmp = tempfile.mkstemp(prefix=obj.name + ".", suffix=".tmp", dir=entry)
            os.close(fd)
            try:
                _run_cc([cc, *flags, "-c", str(src), "-o", tmp])
                os.replace(tmp, obj)  # atomic: a concurrent builder sees the old state or a whole object
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        objs.append(str(obj))
    return objs


def build_emulated_executable(out_dir: str, host_sources: list[str], slave_sources: list[str], *, ldm_bytes: int,
                              output: str = "model", extra_include_dirs=(), opt: str = "-O2",
                              driver: bool = True, extra_cflags=(), direct_access: str | None = None,
                              mpi: bool = False) -> str:
    """Compile emitted host and slave C for the emulator and link an executable; returns its path.

    Host sources get ``-DSWMLIR_HOST``, slave sources ``-DSWMLIR_SLAVE`` (the emitted kernel header then renames
    kernel ``k`` to ``slave_k``, the symbol ``athread_spawn(k, ...)`` refers to); all get ``-DSWMLIR_EMULATOR
    -DSWMLIR_LDM_BYTES=<ldm_bytes>``. ``driver=True`` links driver.c, which includes ``model.h`` (looked for in the
    host sources' directories and ``extra_include_dirs``); with ``driver=False`` the host sources provide ``main``.
    ``direct_access``: "guard" (CPE code reaches main memory only by DMA) or "count" (direct accesses allowed and
    counted); None reads ``$SWMLIR_EMU_DIRECT_ACCESS`` (module docstring). ``mpi=True`` links driver_mpi.c
    instead of driver.c, compiled and linked with the MPI wrapper (mpi_compiler()): run it with mpirun.
    Raises RuntimeError with the compiler's messages on failure.
    """
    if ldm_bytes <= 0:
        raise ValueError(f"ldm_bytes must be positive, got {ldm_bytes}")
    mode = direct_access_mode(direct_access)
    env_flags = extra_emulator_cflags()
    if env_flags and mode == "count":
        raise ValueError("SWMLIR_EMU_CFLAGS (a sanitizer build) cannot be combined with SWMLIR_EMU_DIRECT_ACCESS=count "
                         "(its hooks take AddressSanitizer's names)")
    cc = _compiler()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    defines = ["-DSWMLIR_EMULATOR", f"-DSWMLIR_LDM_BYTES={int(ldm_bytes)}"]
    runtime_flags = [*_STD, opt, *_RUNTIME_WARNINGS, *defines, f"-I{_INCLUDE}", *env_flags]

    inc_dirs = [*include_dirs(emulator=True), *map(str, extra_include_dirs)]
    for src in host_sources:
        d = str(Path(src).resolve().parent)
        if d not in inc_dirs:
            inc_dirs.append(d)
    incs = [f"-I{d}" for d in inc_dirs]
    # Stack-clash probes: a kernel frame larger than the emulated CPE stack hits the guard page (reported as a
    # stack overflow) instead of silently landing in another CPE's stack.
    model_flags = [*_STD, opt, "-fstack-clash-protection", *defines, *incs, *extra_cflags, *env_flags]

    jobs = []  # (command, object)
    obj_dir = out / "obj"
    obj_dir.mkdir(exist_ok=True)
    slave_flags = _count_direct_flags(cc) if mode == "count" else []
    for role, sources in (("host", host_sources), ("slave", slave_sources)):
        for i, src in enumerate(sources):
            obj = obj_dir / f"{role}{i}_{Path(src).stem}.o"
            extra = slave_flags if role == "slave" else []
            jobs.append(([cc, *model_flags, *extra, f"-DSWMLIR_{role.upper()}", "-c", str(src), "-o", str(obj)],
                         str(obj)))
    if mode == "count":
        obj = obj_dir / "direct_count.o"
        jobs.append(([cc, *_STD, opt, "-c", str(_DIRECT_COUNT_C), "-o", str(obj)], str(obj)))
    link_cc = mpi_compiler() if mpi else cc
    if driver:
        obj = obj_dir / ("driver_mpi.o" if mpi else "driver.o")
        jobs.append(([link_cc, *model_flags, "-DSWMLIR_HOST", "-c", str(_DRIVER_MPI_C if mpi else _DRIVER_C),
                      "-o", str(obj)], str(obj)))

    with ThreadPoolExecutor(max_workers=max(1, min(len(jobs) + 1, os.cpu_count() or 1))) as pool:
        runtime = pool.submit(_cached_runtime_objects, cc, runtime_flags)
        for f in [pool.submit(_run_cc, cmd) for cmd, _ in jobs]:
            f.result()
        runtime_objs = runtime.result()

    exe = out / output
    _run_cc([link_cc, "-pthread", *env_flags, "-o", str(exe), *[o for _, o in jobs], *runtime_objs, "-lpthread",
             "-lm"])
    return str(exe)


_ERROR_LINE = re.compile(r"^swmlir-(?:emulator|driver): error:.*$|^swmlir: error:.*$", re.M)


def run_emulated(exe: str, weights: str, input_files: list[str], output_files: list[str], *,
                 stats_json: str | None = None, timeout: float = 600, repeat: int = 1,
                 env: dict | None = None, launcher=()) -> subprocess.CompletedProcess:
    """Run an executable built with ``driver=True``; raises RuntimeError (with the emulator's error line first)
    on a nonzero exit, a signal or a timeout. ``stats_json``: where the emulator writes its counters.
    ``launcher``: words before the executable (mpirun and its flags for an ``mpi=True`` build, swmlir/mpi.py)."""
    cmd = [*launcher, exe, weights, *input_files, *output_files]
    if repeat != 1:
        cmd += ["--repeat", str(int(repeat))]
    run_env = dict(os.environ)
    run_env.pop("SWMLIR_EMU_STATS", None)
    if env:
        run_env.update(env)
    if stats_json:
        run_env["SWMLIR_EMU_STATS"] = str(stats_json)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=run_env)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"{shlex.join(cmd)} timed out after {timeout} s") from e
    if proc.returncode != 0:
        errors = _ERROR_LINE.findall(proc.stderr)
        if proc.returncode < 0:
            import signal
            what = f"killed by signal {signal.Signals(-proc.returncode).name}"
        elif proc.returncode == EMULATOR_EXIT_CODE:
            what = "stopped by an emulator error"
        else:
            what = f"exited with status {proc.returncode}"
        head = errors[0] if errors else what
        raise RuntimeError(f"{head}\n{Path(exe).name} {what}; stderr:\n{proc.stderr[-8000:]}")
    return proc


_TIME = re.compile(r"swmlir-driver: time_ms=([0-9.eE+-]+)")


def parse_time_ms(stderr: str) -> float | None:
    """Mean time per run printed by the driver with --repeat, or None."""
    m = _TIME.search(stderr)
    return float(m.group(1)) if m else None
