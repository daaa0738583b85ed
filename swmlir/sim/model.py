"""Kernel and model time on the target: DMA, compute, their overlap, and the spawn of each launch.

A kernel that waits for its DMA before computing takes DMA + compute; only a kernel marked double-buffered
(`sunway.double_buffered`, by sunway-double-buffer) overlaps them, step by step (overlapped_seconds).
Compute is the busiest CPE's cycles (sim.mix); DMA comes from the counters (sim.dma). GFLOPS use the useful
flops of the ONNX op (the static count), not the instructions issued.

On several core groups (a target `<name>:cgs<N>`) every CG has its own memory controller and DMA engine: a launch's
DMA time is its slowest CG's, each CG's from that CG's own counters (the emulator's per-CG records); compute is
the busiest CPE of all CGs (the mix counts CPE 0's items over the cgs x 64 CPEs); peak is N x the CG's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..targets import Target
from .constants import cpe_constants
from .direct import direct_access_seconds
from .dma import bandwidth, curve_of, dma_seconds


@dataclass
class KernelTime:
    kernel: str
    launches: int
    flops: int
    dma_seconds: float
    compute_seconds: float
    spawn_seconds: float
    overlap: bool
    seconds: float
    gflops: float
    percent_of_peak: float
    bound: str                  # "DMA", "compute", "latency" or "spawn"
    direct_seconds: float = 0.0  # gld/gst of the opt-in mode (sim.direct), included in dma_seconds

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ModelTime:
    seconds: float
    flops: int
    gflops: float
    percent_of_peak: float
    bound: str
    kernels: list[KernelTime]

    cgs: int = 1

    def summary(self) -> str:
        peak = "core-group peak" if self.cgs == 1 else f"the peak of {self.cgs} core groups"
        return (f"modeled {self.seconds * 1e3:.3f} ms, {self.gflops:.1f} GFLOPS = {self.percent_of_peak:.1f} % of "
                f"{peak}, {self.bound}-bound")


def model_kernel(name: str, launches: list[dict], flops: int, mix: dict | None, target: Target) -> KernelTime:
    """`launches`: the emulator's records of this kernel; `mix`: sim.mix.Mix.as_dict() of one launch (with
    `double_buffered_steps`, the step count of the loop sunway-double-buffer rewrote, 0 if none)."""
    c = cpe_constants(target)
    dma = sum(launch_dma_seconds(l, target) for l in launches)
    cycles = mix["cycles"] if mix else 0.0
    compute = cycles / c.clock_hz * len(launches)
    spawn = c.spawn_seconds * len(launches)
    steps = (mix or {}).get("double_buffered_steps", 0)
    double_buffered = steps >= 2
    put = sum(launch_dma_seconds(l, target) * put_share(l, target) for l in launches)
    if double_buffered:
        body = overlapped_seconds(dma, compute, steps, put)
    else:
        body = dma + compute
    body -= streamed_put_seconds(mix, put, c.clock_hz * 1.0, len(launches))
    direct = direct_access_seconds(launches, target)  # blocking loads/stores: overlapped with nothing
    body += direct
    dma += direct
    total = body + spawn
    peak = target.peak_gflops_per_cg * target.cgs
    gflops = flops / total / 1e9 if total else 0.0
    if spawn >= body:
        bound = "spawn"
    elif dma >= compute:
        bound = "DMA"
    elif mix and mix.get("chain_bound_cycles", 0) > 0.5 * cycles:
        bound = "latency"
    else:
        bound = "compute"
    return KernelTime(name, len(launches), flops, dma, compute, spawn, double_buffered, total, gflops,
                      100.0 * gflops / peak if peak else 0.0, bound, direct)


def launch_dma_seconds(launch: dict, target: Target) -> float:
    """DMA time of one launch: from its counters; on several core groups (the record's `cgs`, one record per CG)
    the slowest CG's, each CG moving its own bytes through its own memory controller at the curve's bandwidth."""
    per_cg = launch.get("cgs") or [launch]
    return max(dma_seconds(r["block_sizes"], r.get("max_cpe_dma_bytes", 0), target.cpes_per_cg, target)
               for r in per_cg)


def put_share(launch: dict, target: Target) -> float:
    """The puts' share of a launch's DMA time: their blocks' time at the curve over all blocks' (the emulator's
    `put_block_sizes`); a record without it (older counters) falls back to the puts' share of the bytes."""
    if "put_block_sizes" in launch:
        curve = curve_of(target)
        def t(hist):
            return sum(int(b) * int(n) / bandwidth(int(b), curve) for b, n in hist.items())
        whole = t(launch["block_sizes"])
        return t(launch["put_block_sizes"]) / whole if whole else 0.0
    moved = launch["get_bytes"] + launch["put_bytes"]
    return launch["put_bytes"] / moved if moved else 0.0


def streamed_put_seconds(mix: dict | None, put: float, clock_hz: float, launches: int) -> float:
    """The put time hidden by sunway-stream-puts: a tile put in two halves, the first while the CPE computes the
    second; at most the cycles that run after the first half's put (mix `streamed_cycles`) and at most half of
    the puts' time (the second half's put waits for nothing but stays exposed). Only where every put of the
    kernel is such a half, so that `put` is theirs alone."""
    if not mix or not mix.get("streamed_puts") or mix["streamed_puts"] != mix.get("put_ops"):
        return 0.0
    return min(mix["streamed_cycles"] / clock_hz * launches, put / 2)


def overlapped_seconds(dma: float, compute: float, steps: int, put: float) -> float:
    """A kernel whose split-K loop of `steps` steps is double-buffered: the puts (`put` seconds of the DMA time)
    and the first step's gets stay exposed; the later gets overlap the compute of the step before."""
    get = dma - put
    return put + get / steps + max(get, compute) * (steps - 1) / steps + compute / steps


def model_run(kernels: list[KernelTime], target: Target) -> ModelTime:
    """Kernels run one after another on the core group (on all of them at once: a launch on several CGs ends with
    its slowest CG); the host's own work between them is not counted."""
    seconds = sum(k.seconds for k in kernels)
    flops = sum(k.flops for k in kernels)
    gflops = flops / seconds / 1e9 if seconds else 0.0
    peak = target.peak_gflops_per_cg * target.cgs
    by_bound: dict[str, float] = {}
    for k in kernels:
        part = {"DMA": k.dma_seconds, "spawn": k.spawn_seconds}.get(k.bound, k.compute_seconds)
        by_bound[k.bound] = by_bound.get(k.bound, 0.0) + part
    bound = max(by_bound, key=by_bound.get) if by_bound else "compute"
    return ModelTime(seconds, flops, gflops, 100.0 * gflops / peak if peak else 0.0, bound, kernels, target.cgs)


def split_efficiency(one_cg_seconds: float, n_cg_seconds: float, cgs: int) -> float:
    """How well a model's kernels split over `cgs` core groups: its modeled time on one CG over cgs x its time
    on cgs CGs (1.0 = perfect scaling)."""
    return one_cg_seconds / (cgs * n_cg_seconds) if n_cg_seconds else 0.0
