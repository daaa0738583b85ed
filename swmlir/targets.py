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
    runtime_api: str          # "athread" (SW26010) or "crts" (SW26010-Pro); "athread" for the emulated host
    cc_host: str
    cc_slave: str
    cc_link: str
    cflags_host: tuple[str, ...] = ()
    cflags_slave: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ()
    # DMA bandwidth (MB/s) against block size (bytes), measured on one CG (reference/sunway.md, swCandle Copy).
    dma_curve: tuple[tuple[int, float], ...] = field(default=())
    # How CPEs of a mesh row/column share LDM tiles: "rlc" = register communication (SW26010, putr/getr), "" =
    # not used (SW26010-Pro's RMA is not emitted yet).
    mesh_comm: str = ""
    # Constant MatMul/Gemm weights of products with many rows stored (K, N), vectors along N (True), or (N, K)
    # (False). (K, N) pays where the schedule tiles K and shares B tiles over the mesh (SW26010); where the LDM
    # holds whole rows of K and nothing is shared (SW26010-Pro), (N, K) gives DMA blocks of whole rows, which
    # docs/performance.md measured faster there. Read by the importer (frontend/onnx/ops/matmul.py).
    kn_weights: bool = True

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
        simd_bits=512, peak_gflops_per_cg=2304.0, dma_gbps_per_cg=51.2, runtime_api="athread", kn_weights=False,
        cc_host="swgcc -mhost", cc_slave="swgcc -mslave", cc_link="swgcc -mhybrid",
        cflags_host=("-O2", "-faddress_align=128"), cflags_slave=("-O2", "-msimd", "-faddress_align=64", "-DSWMLIR_SIMD_LANES=8"),
        ldflags=("-lm_slave",)),
    "host": Target(
        name="host", description="This machine, emulated as one core group: CPEs = threads, LDM sized to L2",
        cpes_per_cg=64, mesh=(8, 8), cgs_per_chip=1, ldm_bytes=256 * 1024, ldm_reserved_bytes=32 * 1024,
        simd_bits=256, peak_gflops_per_cg=0.0, dma_gbps_per_cg=0.0, runtime_api="athread",
        cc_host="cc", cc_slave="cc", cc_link="cc", cflags_host=("-O2",), cflags_slave=("-O2",)),
}


def get_target(name: str | Target) -> Target:
    """A target by name; a Target given directly is registered under its name (passes refer to targets by name)."""
    if isinstance(name, Target):
        TARGETS[name.name] = name
        return name
    try:
        return TARGETS[name]
    except KeyError:
        from .errors import CompileError
        raise CompileError(f"unknown target '{name}'; known targets: {', '.join(TARGETS)}", stage="target") from None
