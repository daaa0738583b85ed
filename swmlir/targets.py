"""Targets are data: one table row per machine. Passes and code generation read these fields, never a name."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    cpes_per_cg: int          # compute cores per core group
    mesh: tuple[int, int]     # CPE mesh (rows, cols)
    cgs_per_chip: int
    ldm_bytes: int            # LDM (scratchpad) per CPE
    ldm_reserved_bytes: int   # kept free for the CPE stack, reply words and scalars
    simd_bits: int
    peak_gflops_per_cg: float
    dma_gbps_per_cg: float    # measured DMA bandwidth of one core group
    # The CPE runtime API the emitted C calls: "athread" (SW26010's athread_get/put, athread_syn, athread_get_id)
    # or "crts" (SW26010-Pro's crts.h: CRTS_dma_iget/iput[_stride], CRTS_dma_wait_value, CRTS_ssync_array,
    # CRTS_tid/rid/cid, CRTS_init); "athread" for the emulated host. Read by sunway-lower-to-athread,
    # sunway-host-to-emitc, the kernel entries (passes/emitc_kernel_entries.py) and the Makefile (codegen/files.py).
    runtime_api: str
    cc_host: str
    cc_slave: str
    cc_link: str
    cflags_host: tuple[str, ...] = ()
    cflags_slave: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ()
    # DMA bandwidth (MB/s) against block size (bytes), measured on one CG (reference/sunway.md, swCandle Copy).
    dma_curve: tuple[tuple[int, float], ...] = field(default=())
    # How CPEs of a mesh row/column share LDM tiles: "rlc" = register communication (SW26010, putr/getr), "" =
    # not used. SW26010-Pro: "" -- its C lowers a sunway.mesh_allgather to RMA row/column broadcasts
    # (swmlir_slave.h, CRTS_rma_row_ibcast / CRTS_rma_col_ibcast), but the schedule and the performance model
    # cost sharing only for register communication, so sunway-share-tiles leaves Pro's gets alone.
    mesh_comm: str = ""
    # Constant MatMul/Gemm weights of products with many rows stored (K, N), vectors along N (True), or (N, K)
    # (False). (K, N) pays where the schedule tiles K and shares B tiles over the mesh (SW26010); where the LDM
    # holds whole rows of K and nothing is shared (SW26010-Pro), (N, K) gives DMA blocks of whole rows, which
    # docs/performance.md measured faster there. Read by the importer (frontend/onnx/ops/matmul.py).
    kn_weights: bool = True
    # Core groups a compile distributes each kernel over (swmlir compile --cgs N; 1 = one CG, the default). The
    # work items of a kernel are dealt over cgs x cpes_per_cg CPEs, global CPE id = CG * 64 + CPE
    # (sunway-map-cpes); a target with cgs > 1 is named `<name>:cgs<N>` (with_cgs).
    cgs: int = 1

    @property
    def cpes(self) -> int:
        """CPEs a kernel's work items are dealt over: every CPE of the core groups the compile uses."""
        return self.cpes_per_cg * self.cgs

    @property
    def base_name(self) -> str:
        """The table entry's name, without the core-group count."""
        return self.name.split(":", 1)[0]

    @property
    def simd_f32_lanes(self) -> int:
        """Floats per SIMD register: floatv4 on SW26010's 256-bit registers, floatv8 on Pro's 512-bit ones (both
        keep a float in a 64-bit lane, so single precision runs at the double-precision rate)."""
        return self.simd_bits // 64

    @property
    def ldm_budget(self) -> int:
        """Bytes of LDM a kernel's buffers may use."""
        return self.ldm_bytes - self.ldm_reserved_bytes


_SW26010_DMA = ((8, 466.0), (64, 1864.0), (256, 5985.0), (512, 8784.0), (1024, 12536.0), (2048, 15321.0),
                (4096, 18393.0), (8192, 19066.0), (16384, 20034.0), (24576, 20423.0))

TARGETS: dict[str, Target] = {
    "sw26010": Target(
        name="sw26010", description="SW26010 (Sunway TaihuLight): 4 CGs x (1 MPE + 64 CPEs), 64 KB LDM per CPE",
        cpes_per_cg=64, mesh=(8, 8), cgs_per_chip=4, ldm_bytes=64 * 1024, ldm_reserved_bytes=8 * 1024,
        simd_bits=256, peak_gflops_per_cg=742.4, dma_gbps_per_cg=22.6, runtime_api="athread",
        cc_host="sw5cc -host", cc_slave="sw5cc -slave", cc_link="sw5cc -hybrid",
        cflags_host=("-O2",), cflags_slave=("-O2", "-msimd", "-DSWMLIR_SIMD_LANES=4"), ldflags=("-lm_slave",),
        dma_curve=_SW26010_DMA, mesh_comm="rlc"),
    "sw26010pro": Target(
        name="sw26010pro", description="SW26010-Pro: 6 CGs x (1 MPE + 64 CPEs), 256 KB LDM per CPE",
        cpes_per_cg=64, mesh=(8, 8), cgs_per_chip=6, ldm_bytes=256 * 1024, ldm_reserved_bytes=40 * 1024,
        simd_bits=512, peak_gflops_per_cg=2304.0, dma_gbps_per_cg=51.2, runtime_api="crts", kn_weights=False,
        cc_host="swgcc -mhost", cc_slave="swgcc -mslave", cc_link="swgcc -mhybrid",
        # flags of reference/sunway.md 2.1 (the swops Makefile): -mieee for IEEE results (NaN/Inf, denormals:
        # checked against onnxruntime), 128/64-byte address alignment of host/slave objects
        cflags_host=("-O2", "-mieee", "-faddress_align=128"),
        cflags_slave=("-O2", "-mieee", "-msimd", "-faddress_align=64", "-DSWMLIR_SIMD_LANES=8"),
        ldflags=("-mieee", "-lm_slave")),
    "host": Target(
        name="host", description="This machine, emulated as one core group: CPEs = threads, LDM sized to L2",
        cpes_per_cg=64, mesh=(8, 8), cgs_per_chip=1, ldm_bytes=256 * 1024, ldm_reserved_bytes=32 * 1024,
        simd_bits=256, peak_gflops_per_cg=0.0, dma_gbps_per_cg=0.0, runtime_api="athread",
        cc_host="cc", cc_slave="cc", cc_link="cc", cflags_host=("-O2",), cflags_slave=("-O2",)),
}


RUNTIME_APIS = ("athread", "crts")
TARGET_ATTR = "swmlir.target"   # module attribute: the target's name (set by swmlir.compile on host and kernels)


def module_target(module, option: str = "") -> Target:
    """The target a pass works for: its `target=` option if given, else the module's `swmlir.target` attribute,
    else sw26010 (what a bare swmlir-opt run on a test file means)."""
    if option:
        return get_target(option)
    from mlir import ir
    op = getattr(module, "operation", module)
    while op is not None and op.name != "builtin.module":
        op = op.parent
    if op is not None and TARGET_ATTR in op.attributes:
        return get_target(ir.StringAttr(op.attributes[TARGET_ATTR]).value)
    return get_target("sw26010")


def get_target(name: str | Target) -> Target:
    """A target by name; a Target given directly is registered under its name (passes refer to targets by name).
    `<name>:cgs<N>` is the target on N core groups (with_cgs)."""
    if isinstance(name, Target):
        if name.cgs == 1:
            TARGETS[name.name] = name
        else:
            _CG_TARGETS[name.name] = name
        return name
    if name in _CG_TARGETS:
        return _CG_TARGETS[name]
    base, sep, cgs = name.partition(":cgs")
    if sep:
        if not cgs.isdigit():
            from .errors import CompileError
            raise CompileError(f"target '{name}': the core-group count after ':cgs' must be a number",
                               stage="target")
        return with_cgs(get_target(base), int(cgs))
    try:
        return TARGETS[name]
    except KeyError:
        from .errors import CompileError
        raise CompileError(f"unknown target '{name}'; known targets: {', '.join(TARGETS)}", stage="target") from None


_CG_TARGETS: dict[str, Target] = {}   # the multi-CG variants made so far (not table entries: not in TARGETS)


def parse_cgs(value: str | int, target: str | Target) -> int:
    """The core-group count of `--cgs`: a number from 1 to the target's cgs_per_chip, or "all" (every CG of the
    target's chip)."""
    from .errors import CompileError
    tgt = get_target(target)
    base = TARGETS.get(tgt.base_name, tgt)
    if isinstance(value, str) and value.strip().lower() == "all":
        return base.cgs_per_chip
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise CompileError(f"--cgs takes a number or 'all', not '{value}'", stage="target") from None
    if not 1 <= n <= base.cgs_per_chip:
        raise CompileError(f"--cgs {n}: target {base.name} has {base.cgs_per_chip} core group(s) per chip",
                           stage="target")
    return n


def with_cgs(target: str | Target, cgs: int | str) -> Target:
    """The target distributing each kernel over `cgs` core groups ("all": every CG of its chip). With 1, the table
    entry itself (every output as without the option)."""
    import dataclasses
    tgt = get_target(target)
    base = TARGETS.get(tgt.base_name, tgt)
    n = parse_cgs(cgs, base)
    if n == 1:
        return base
    name = f"{base.name}:cgs{n}"
    if name not in _CG_TARGETS:
        _CG_TARGETS[name] = dataclasses.replace(
            base, name=name, cgs=n, description=f"{base.description}; kernels over {n} core groups")
    return _CG_TARGETS[name]
