"""`swmlir bench`: what a compiled model does on the machine, kernel by kernel, from the emulator's exact
counters (DMA requests, bytes and block sizes, LDM in use) and the compiler's static flop counts.

The emulator's wall time is NOT Sunway time; it is reported only as a ratio against onnxruntime run on the same
machine in the same process, as a sanity check of the generated code. The counters are what a performance
model of the target consumes (flops per DMA byte against the target's balance, peak_gflops_per_cg /
dma_gbps_per_cg: ~33 flop/byte on a SW26010 core group, ~45 on SW26010-Pro).
"""
from __future__ import annotations

import json
import os
import tempfile
import time

import numpy as np


def bench(model_path: str, *, target: str = "sw26010", repeat: int = 3, seed: int = 0, input_shapes=None,
          schedule: str = "model", cgs: int | str = 1) -> dict:
    """`cgs` > 1 (or "all"): the model compiled for that many core groups; the report's `multi_cg` then compares
    its modeled time with the single-CG compile's (benchmarked too): speedup and efficiency of the split."""
    from . import progress
    # compile, build and run with counters, the timed runs, onnxruntime (and the 1-CG compile for --cgs)
    steps = 4 + (str(cgs) != "1")
    with progress.bar(steps, f"bench {os.path.basename(model_path)}", "steps", leave=False, eta=False) as shown:
        return _bench(model_path, target, repeat, seed, input_shapes, schedule, cgs, shown)


def _bench(model_path, target, repeat, seed, input_shapes, schedule, cgs, shown) -> dict:
    from . import compiler
    from .cli import _random_inputs
    t0 = time.perf_counter()
    shown.set_postfix("compile")
    m = compiler.compile(model_path, target, input_shapes=input_shapes, schedule=schedule, cgs=cgs)
    compile_s = time.perf_counter() - t0
    shown.update()
    feeds = _random_inputs(m.info, seed)
    shown.set_postfix("build, run on the emulator with counters")
    with tempfile.TemporaryDirectory() as d:
        stats_path = os.path.join(d, "stats.json")
        m.run(feeds, stats_json=stats_path)
        with open(stats_path) as f:
            counters = json.load(f)
    shown.update()
    shown.set_postfix(f"{repeat} timed runs on the emulator")
    m.run(feeds, repeat=repeat)
    ours_ms = m.last_time_ms
    shown.update()
    shown.set_postfix("onnxruntime")
    ort_ms = None
    try:
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.log_severity_level = 3
        sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
        ort_feeds = {t.name: np.asarray(feeds[t.name]) for t in m.info.inputs}
        sess.run(None, ort_feeds)
        t1 = time.perf_counter()
        for _ in range(repeat):
            sess.run(None, ort_feeds)
        ort_ms = (time.perf_counter() - t1) / repeat * 1000
    except Exception:  # a model onnxruntime cannot run has no peer time; the counters stand alone
        pass
    shown.update()
    static = {k.name: k for k in m.kernel_stats}
    kernels: dict[str, dict] = {}
    for launch in counters["launches"]:
        k = kernels.setdefault(launch["kernel"], {"kernel": launch["kernel"], "launches": 0, "get_requests": 0,
                                                  "put_requests": 0, "get_bytes": 0, "put_bytes": 0,
                                                  "block_sizes": {}, "put_block_sizes": {}, "ldm_peak_bytes": 0,
                                                  "mesh_bytes": 0,
                                                  "gld_requests": 0, "gld_bytes": 0, "gst_requests": 0,
                                                  "gst_bytes": 0})
        k["launches"] += 1
        for key in ("get_requests", "put_requests", "get_bytes", "put_bytes"):
            k[key] += launch[key]
        for key in ("gld_requests", "gld_bytes", "gst_requests", "gst_bytes"):  # direct accesses (opt-in mode)
            k[key] += launch.get(key, 0)
        k["mesh_bytes"] += launch.get("mesh_bytes", 0)   # received by register communication, all CPEs
        for key in ("block_sizes", "put_block_sizes"):
            for size, count in launch.get(key, {}).items():
                k[key][size] = k[key].get(size, 0) + count
        k["ldm_peak_bytes"] = max(k["ldm_peak_bytes"], launch["ldm_peak_bytes"])
    for name, k in kernels.items():
        s = static.get(name)
        k["node"] = s.node if s else ""
        k["flops"] = s.flops * k["launches"] if s else 0
        k["ldm_planned_bytes"] = s.ldm_bytes if s else 0
        k["tensor_bytes"] = s.tensor_bytes if s else 0
        k["contraction"] = s.contraction if s else False
        k["tiles"] = s.tiles if s else ""
        k["dma_planned_bytes"] = (s.dma_get_bytes + s.dma_put_bytes) * k["launches"] if s else 0
        moved = k["get_bytes"] + k["put_bytes"]
        k["flops_per_byte"] = round(k["flops"] / moved, 3) if moved else None
        blocks = [(int(b), c) for b, c in k["block_sizes"].items()]
        n_blocks = sum(c for _, c in blocks)
        k["mean_block_bytes"] = round(sum(b * c for b, c in blocks) / n_blocks, 1) if n_blocks else 0
    from .sim import model_kernel, model_run
    launches_of: dict[str, list] = {}
    for launch in counters["launches"]:
        launches_of.setdefault(launch["kernel"], []).append(launch)
    times = []
    for name, k in kernels.items():
        t = model_kernel(name, launches_of[name], k["flops"], m.kernel_mix.get(name), m.target)
        k["model"] = t.as_dict()
        k["mix"] = m.kernel_mix.get(name)
        times.append(t)
    modeled = model_run(times, m.target) if m.target.peak_gflops_per_cg else None
    tot = counters.get("totals", {})
    multi = None
    if m.target.cgs > 1 and modeled:
        from .sim.model import split_efficiency
        shown.set_postfix("the same on one core group")
        one = bench(model_path, target=m.target.base_name, repeat=1, seed=seed, input_shapes=input_shapes,
                    schedule=schedule)["modeled"]["seconds"]
        multi = {"cgs": m.target.cgs, "seconds": modeled.seconds, "one_cg_seconds": one,
                 "speedup": one / modeled.seconds if modeled.seconds else 0.0,
                 "efficiency": split_efficiency(one, modeled.seconds, m.target.cgs),
                 "per_kernel": [{"kernel": k.kernel, "seconds": k.seconds} for k in modeled.kernels]}
        shown.update()
    report = {"model": os.path.basename(model_path), "target": target, "schedule": schedule,
            "compile_seconds": round(compile_s, 3),
            "kernels": list(kernels.values()), "totals": tot,
            "flops": sum(k["flops"] for k in kernels.values()),
            "emulator_ms_per_run": ours_ms, "onnxruntime_ms_per_run": ort_ms,
            "emulator_over_onnxruntime": round(ours_ms / ort_ms, 2) if ours_ms and ort_ms else None,
            "arena_bytes": m.arena_bytes, "intermediate_bytes": m.intermediate_bytes,
            "weights_bytes": m.weights_bytes,
            "modeled": ({"seconds": modeled.seconds, "gflops": modeled.gflops,
                       "percent_of_peak": modeled.percent_of_peak, "bound": modeled.bound,
                       "peak_gflops_per_cg": m.target.peak_gflops_per_cg, "summary": modeled.summary()}
                      if modeled else None),
            "tensor_bytes": _tensor_bytes(m)}
    if m.target.cgs > 1:
        report["cgs"] = m.target.cgs
        report["multi_cg"] = multi
    return report


def _tensor_bytes(m) -> int:
    """Bytes of the model's weights, inputs and outputs: what DMA must move at least once."""
    import math
    io = sum(math.prod(t.shape) * np.dtype(t.dtype).itemsize for t in list(m.info.inputs) + list(m.info.outputs))
    return m.weights_bytes + io


def print_table(r: dict) -> None:
    hdr = f"{'kernel':<44}{'launch':>7}{'get req':>9}{'put req':>9}{'DMA bytes':>12}{'mean blk':>9}" \
          f"{'flops':>13}{'flop/B':>8}{'LDM peak':>9}{'DMA us':>9}{'comp us':>9}{'% peak':>7}  bound"
    cgs = f" x {r['cgs']} core groups" if r.get("cgs") else ""
    print(f"swmlir bench: {r['model']} on {r['target']}{cgs} (compiled in {r['compile_seconds']} s)")
    print(hdr)
    for k in r["kernels"]:
        fpb = "" if k["flops_per_byte"] is None else f"{k['flops_per_byte']:.2f}"
        print(f"{k['kernel'][:43]:<44}{k['launches']:>7}{k['get_requests']:>9}{k['put_requests']:>9}"
              f"{k['get_bytes'] + k['put_bytes']:>12,}{k['mean_block_bytes']:>9}{k['flops']:>13,}{fpb:>8}"
              f"{k['ldm_peak_bytes']:>9}{k['model']['dma_seconds'] * 1e6:>9.1f}{k['model']['compute_seconds'] * 1e6:>9.1f}"
              f"{k['model']['percent_of_peak']:>7.1f}  {k['model']['bound']}")
    t = r["totals"]
    moved = t.get("get_bytes", 0) + t.get("put_bytes", 0)
    print(f"total: {len(r['kernels'])} kernels, {moved:,} DMA bytes in {t.get('get_requests', 0) + t.get('put_requests', 0):,}"
          f" requests ({moved / r['tensor_bytes'] if r['tensor_bytes'] else 0:.1f}x the model's weights+inputs+outputs),"
          f" {r['flops']:,} flops ({r['flops'] / moved if moved else 0:.2f} flop/byte)")
    if r["emulator_over_onnxruntime"]:
        print(f"host emulator {r['emulator_ms_per_run']:.2f} ms/run vs onnxruntime {r['onnxruntime_ms_per_run']:.2f} "
              f"ms/run on this machine: ratio {r['emulator_over_onnxruntime']} (emulated CPEs, not Sunway time)")
    if r.get("modeled"):
        db = sum(1 for k in r["kernels"] if k["model"]["overlap"])
        print(f"performance model (docs/performance-model.md): DMA overlaps compute only in the {db} double-buffered "
              f"kernel(s), {r['modeled']['peak_gflops_per_cg']} GFLOPS core-group peak")
        mc = r.get("multi_cg")
        if mc:
            print(f"on {mc['cgs']} core groups: each CG's DMA through its own memory controller, a launch as long "
                  f"as its slowest CG")
        print(r["modeled"]["summary"])
        if mc:
            print(f"{mc['cgs']} core groups: {mc['seconds'] * 1e3:.3f} ms against {mc['one_cg_seconds'] * 1e3:.3f} ms "
                  f"on one: speedup {mc['speedup']:.2f}x, efficiency of the split {100 * mc['efficiency']:.1f} % "
                  f"(1 CG time / ({mc['cgs']} x {mc['cgs']}-CG time))")
