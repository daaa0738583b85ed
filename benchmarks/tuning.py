"""The GEMM-tuning paper's experiment (Zhang et al., arXiv 1909.10616) on our targets: how close each search
comes to the optimum of the schedule space after a fraction of it, and how long it takes.

For every GEMM shape of the set (square and skinny, 64 to 4096, the transformer block's projections and FFN, the
ResNet fully connected layer) and every distinct conv of ResNet-18, on sw26010 and sw26010pro, the op is lowered
to the schedule stage with a capturing tuner (swmlir.tune.hook), its space built (swmlir.tune.space, cost
swmlir.tune.cost), the optimum found by exhaustive search (GEMMs; for convs, whose spaces cost minutes to
enumerate, the best any search found), and every method run from the paper's start state (unit tiles, every
factor in the outer level) with budgets of 0.1 %, 0.5 %, 1 % and 5 % of the space and 25 / 50 / 100 / 200
evaluations. Writes docs/tuning.md's measured part (between the markers) and the convergence plots
docs/tuning_*.png. Not part of the test suite.

  .venv/bin/python benchmarks/tuning.py                 # everything (about 10 minutes on 2 cores)
  .venv/bin/python benchmarks/tuning.py --quick         # 3 GEMMs, one target, one seed
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from swmlir.compiler import lower_to_stage  # noqa: E402
from swmlir.testing import networks  # noqa: E402
from swmlir.tune.baselines import exhaustive  # noqa: E402
from swmlir.tune.cost import group_model  # noqa: E402
from swmlir.tune.driver import METHODS, group_space, state_of  # noqa: E402
from swmlir.tune.hook import using  # noqa: E402

GEMMS = [  # (M, N, K)
    (64, 64, 64), (256, 256, 256), (1024, 1024, 1024), (4096, 4096, 4096),   # square
    (128, 256, 256), (128, 1024, 256), (128, 256, 1024),                     # transformer block (seq 128)
    (1, 1000, 512),                                                          # ResNet-18 fc
    (64, 4096, 1024), (4096, 64, 1024),                                      # skinny
]
SEARCHES = ["gbfs", "na2c", "random", "anneal", "xgb"]
FRACTIONS = [0.001, 0.005, 0.01, 0.05]
ABSOLUTE = [25, 50, 100, 200]


def matmul_model(m, n, k):
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "mm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])], [w])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


class Capture:
    """A tuner that measures the searches on every group of the wanted kinds and then lets the heuristic's
    choice stand (returns None)."""

    def __init__(self, kinds, measure):
        self.kinds, self.measure, self.seen = kinds, measure, set()

    def tiles_for(self, g, tgt, signature, heuristic):
        model = group_model(g, tgt)
        key = (model.kind, tuple(model.nest.sizes))
        if model.kind in self.kinds and key not in self.seen:
            self.seen.add(key)
            h = heuristic()
            self.measure(model, state_of(h, model.nest.parallel), key)
        return None


def experiment(model, target, kinds, seeds, use_exhaustive, rows, label_of):
    def measure(gm, h_state, key):
        space = group_space(gm)
        t0 = time.perf_counter()
        size = space.legal_count()
        opt_run = exhaustive(space) if use_exhaustive else None
        t_ex = time.perf_counter() - t0
        start = space.unit_state()
        budgets = sorted({max(1, math.ceil(f * size)) for f in FRACTIONS} | {min(a, size) for a in ABSOLUTE})
        top = max(budgets)
        runs = {}
        for method in SEARCHES:
            runs[method] = []
            for seed in seeds:
                t1 = time.perf_counter()
                run = METHODS[method](space, top, start, seed=seed)
                runs[method].append((run, time.perf_counter() - t1))
        opt = opt_run.best_cost if opt_run else min(min(r.best_cost for r, _ in rs) for rs in runs.values())
        opt = min(opt, space.cost(h_state))
        row = {"label": label_of(key), "target": target, "kind": key[0], "loops": key[1], "space": size,
               "optimum": opt, "exhaustive": bool(opt_run), "exhaustive_s": t_ex,
               "heuristic": space.cost(h_state) / opt, "start": space.cost(start) / opt, "methods": {}}
        for method, rs in runs.items():
            at = {}
            for b in budgets:
                vals = [(r.curve[min(b, len(r.curve)) - 1] if r.curve else math.inf) / opt for r, _ in rs]
                at[b] = float(np.mean(vals))
            curve = np.mean([[ (r.curve[min(i, len(r.curve)) - 1] if r.curve else math.inf) / opt
                               for i in range(1, top + 1)] for r, _ in rs], axis=0)
            row["methods"][method] = {"at": at, "seconds": float(np.mean([t for _, t in rs])),
                                      "evals_per_s": float(np.mean([r.evaluations / max(t, 1e-9) for r, t in rs])),
                                      "curve": curve.tolist()}
        rows.append(row)
        print(f"  {row['label']:<28} {target:<11} space {size:>6}  heuristic {row['heuristic']:.3f}  "
              + "  ".join(f"{m} {row['methods'][m]['at'][max(1, math.ceil(0.01 * size))]:.3f}" for m in SEARCHES)
              + f"  (at 1 %; exhaustive {t_ex:.1f} s)", flush=True)

    with using(Capture(kinds, measure)):
        lower_to_stage(model, "schedule", target=target)


def frac_budget(row, f):
    return max(1, math.ceil(f * row["space"]))


def table(rows, budgets_of, header):
    out = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in rows:
        cells = [r["label"], r["target"], f"{r['space']}", f"{r['optimum'] * 1e6:.1f}" + ("" if r["exhaustive"] else "*"),
                 f"{r['heuristic']:.3f}"]
        for m in SEARCHES:
            cells.append(" / ".join(f"{r['methods'][m]['at'][b]:.2f}" for b in budgets_of(r)))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def plot(rows, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    n = min(len(r["methods"]["gbfs"]["curve"]) for r in rows)
    for m in SEARCHES:
        ys = np.exp(np.mean([np.log(r["methods"][m]["curve"][:n]) for r in rows], axis=0))
        ax.plot(range(1, n + 1), ys, label=m)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("configurations evaluated")
    ax.set_ylabel("best modeled time / optimum (geometric mean)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def targets_summary(rows):
    lines = []
    gemm = [r for r in rows if r["kind"] == "matmul"]
    for m in ("gbfs", "na2c"):
        ok = [r for r in gemm if r["methods"][m]["at"][frac_budget(r, 0.005)] <= 1.05]
        lines.append(f"- {m}: within 5 % of the exhaustive optimum at 0.5 % of the space on {len(ok)} of "
                     f"{len(gemm)} GEMM (shape, target) pairs")
        for b in (25, 50, 100):
            okb = [r for r in gemm if r["methods"][m]["at"][min(b, r["space"])] <= 1.05]
            lines.append(f"  - after {b} evaluations: {len(okb)} of {len(gemm)}")
        better = [r for r in gemm if r["methods"][m]["at"][frac_budget(r, 0.01)]
                  <= 0.8 * r["methods"]["random"]["at"][frac_budget(r, 0.01)]]
        better50 = [r for r in gemm if r["methods"][m]["at"][min(50, r["space"])]
                    <= 0.8 * r["methods"]["random"]["at"][min(50, r["space"])]]
        lines.append(f"  - >= 20 % lower modeled time than random at equal budget: {len(better)} of {len(gemm)} "
                     f"at 1 % of the space, {len(better50)} of {len(gemm)} after 50 evaluations")
    h = [r["heuristic"] for r in rows]
    lines.append(f"- the heuristic (passes/schedule.py) against the optimum: worst {max(h):.3f}, "
                 f"geometric mean {math.exp(np.mean(np.log(h))):.3f} over all {len(rows)} (op, target) pairs")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "tuning.md"))
    a = ap.parse_args(argv)
    targets = ["sw26010"] if a.quick else ["sw26010", "sw26010pro"]
    gemms = GEMMS[1:4] if a.quick else GEMMS
    t0 = time.perf_counter()
    rows = []
    for tgt in targets:
        print(f"GEMMs on {tgt}")
        for m, n, k in gemms:
            experiment(matmul_model(m, n, k), tgt, {"matmul"}, [0] if a.quick else [0, 1, 2], True, rows,
                       lambda key, s=(m, n, k): f"GEMM {s[0]}x{s[1]}x{s[2]}")
    if not a.quick:
        r18 = networks.resnet18()
        for tgt in targets:
            print(f"ResNet-18 convs on {tgt}")
            experiment(r18, tgt, {"conv"}, [0], False, rows, lambda key: "conv " + "x".join(map(str, key[1])))
    elapsed = time.perf_counter() - t0
    docs = os.path.dirname(a.out)
    for tgt in targets:
        for kind, name in (("matmul", "gemm"), ("conv", "conv")):
            sel = [r for r in rows if r["target"] == tgt and r["kind"] == kind]
            if sel:
                plot(sel, os.path.join(docs, f"tuning_{name}_{tgt}.png"), f"{name.upper()}s on {tgt}")
    frac_hdr = ("| op | target | space | optimum us | heuristic | " + " | ".join(SEARCHES) + " |")
    text = ["<!-- measured: written by benchmarks/tuning.py -->",
            f"Measured by `benchmarks/tuning.py` in {elapsed / 60:.1f} min ({'quick' if a.quick else 'full'} run). "
            "Every cell is the best modeled time found divided by the optimum (1.00 = the optimum), the mean over "
            f"{'1 seed' if a.quick else '3 seeds (GEMMs), 1 seed (convs)'}; the searches start from the paper's "
            "s0 (unit tiles). `optimum us` is the exhaustive optimum (* = best found by any search: conv spaces "
            "are not enumerated); `heuristic` is the schedule's own choice over the optimum.",
            "", "### After 0.1 % / 0.5 % / 1 % / 5 % of the space", "",
            table(rows, lambda r: [frac_budget(r, f) for f in FRACTIONS], frac_hdr),
            "", "### After 25 / 50 / 100 / 200 evaluations", "",
            table(rows, lambda r: [min(b, r["space"]) for b in ABSOLUTE], frac_hdr),
            "", "### Search time (seconds for the largest budget, mean; evaluations per second)", "",
            "| op | target | exhaustive s | " + " | ".join(SEARCHES) + " |",
            "|" + "---|" * (3 + len(SEARCHES))]
    for r in rows:
        text.append(f"| {r['label']} | {r['target']} | {r['exhaustive_s']:.1f} | " + " | ".join(
            f"{r['methods'][m]['seconds']:.2f} ({r['methods'][m]['evals_per_s']:.0f}/s)" for m in SEARCHES) + " |")
    text += ["", "### Against the issue's targets", "", targets_summary(rows), "",
             "Convergence (geometric mean over the shapes of best/optimum against evaluations): "
             + ", ".join(f"`docs/tuning_{n}_{t}.png`" for t in targets for n in ("gemm", "conv")), "",
             "<!-- end measured -->"]
    body = "\n".join(text)
    if os.path.exists(a.out):
        old = open(a.out).read()
        if "<!-- measured:" in old and "<!-- end measured -->" in old:
            pre = old.split("<!-- measured:")[0]
            post = old.split("<!-- end measured -->")[1]
            body = pre + body + post
    with open(a.out, "w") as f:
        f.write(body if body.endswith("\n") else body + "\n")
    print(f"wrote {a.out} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
