"""Numbers of the CPE pipelines the model needs, per target. Sources: shared reference/sunway.md and
reference/sunway-kernels.md (cited by key); values no public source gives are marked ASSUMED and chosen on the slow
side, so that the model never flatters the code. docs/performance-model.md discusses each."""
from __future__ import annotations

from dataclasses import dataclass

from ..targets import Target


SPAWN_SECONDS = 10e-6   # athread_spawn + athread_join of one kernel launch: ASSUMED (no public figure)


@dataclass(frozen=True)
class CPEConstants:
    clock_hz: float              # CPE clock
    vector_lanes: int            # f32 lanes of one SIMD vector (floatv4 / floatv8)
    vector_fma_per_cycle: float  # vector FMAs issued per cycle (pipe P0)
    scalar_fp_per_cycle: float   # scalar FP instructions per cycle (pipe P0, same pipe as vector)
    mem_per_cycle: float         # LDM loads/stores (scalar or vector) per cycle (pipe P1)
    unaligned_vector_access: int  # P1 slots of one unaligned vector load/store (simd_loadu/storeu)
    int_per_cycle: float         # integer/index instructions per cycle (pipe P1, shared with memory)
    fp_latency: int              # cycles from an FP/FMA instruction to a dependent one
    ldm_latency: int             # cycles from an LDM load to its use
    slow_fp_cycles: int          # a divide or square root (not pipelined)
    libm_cycles: int             # exp, log, tanh, erf, pow ... (software on the CPE)
    int_div_cycles: int          # integer divide / remainder (software)
    loop_overhead: int           # P1 instructions per loop iteration (increment, compare-and-branch)
    spawn_seconds: float         # athread_spawn + athread_join of one kernel launch
    mesh_latency: int            # cycles of one register-communication transfer, sender to receiver
    mesh_bytes_per_cycle: float  # bytes one CPE receives per cycle by register communication (its share)


def cpe_constants(target: Target) -> CPEConstants:
    """sunway.md 1.1: 1.45 GHz, 8 flop/cycle per CPE = one 4-lane FMA per cycle; in-order dual issue on P0/P1.
    sunway.md 2: SW26010-Pro CPEs at 2.25 GHz, 16 flop/cycle (512-bit). Register communication
    (sunway-kernels.md 5, SW26010): <= 11 cycles per transfer, 637 GB/s per core group, of which a CPE is given
    its 1/64 share (6.9 B/cycle, below the 32 B of one transfer per cycle). Latencies, slow-op costs and the spawn
    cost are ASSUMED (no public measurement; see docs/performance-model.md)."""
    clock = 2.25e9 if target.simd_bits == 512 else 1.45e9
    return CPEConstants(clock_hz=clock, vector_lanes=target.simd_f32_lanes, vector_fma_per_cycle=1.0,
                        scalar_fp_per_cycle=1.0, mem_per_cycle=1.0,
                        unaligned_vector_access=2,
                        int_per_cycle=1.0, fp_latency=7, ldm_latency=4, slow_fp_cycles=32, libm_cycles=60,
                        int_div_cycles=24, loop_overhead=2, spawn_seconds=SPAWN_SECONDS,
                        mesh_latency=11, mesh_bytes_per_cycle=637e9 / 64 / clock)
