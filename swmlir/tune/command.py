"""`swmlir tune MODEL --target T --method gbfs|na2c|random|anneal|xgb|exhaustive --budget N --db tuning.jsonl`."""
from __future__ import annotations

import os
import sys

from swmlir.errors import CompileError


def add_parser(sub) -> None:
    from swmlir.targets import TARGETS
    from .driver import METHODS
    t = sub.add_parser("tune", help="search the tiles of every distinct op group of a model; the best go to a "
                                    "tuning database that compile/run/bench --tuning-db apply")
    t.add_argument("model")
    t.add_argument("--target", default="sw26010", choices=sorted(TARGETS))
    t.add_argument("--method", default="gbfs",
                   help=f"search method, or several separated by commas: {', '.join(METHODS)} (default gbfs)")
    t.add_argument("--budget", type=int, default=200, help="configurations evaluated per op group (default 200)")
    t.add_argument("--db", default="tuning.jsonl", help="tuning database, read to resume and appended to")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--plot", help="draw the convergence (best modeled time against configurations evaluated, "
                                  "one line per method) to this PNG")
    t.add_argument("--input-shape", action="append")
    t.set_defaults(fn=main)


def _print_table(rows, out=None) -> None:
    out = out or sys.stdout   # looked up per call: a default bound at import outlives a redirected stdout
    print(f"  {'group':<34}{'kind':<13}{'loops':<26}{'heuristic us':>13}{'best us':>10}{'speedup':>8}"
          f"{'evaluated':>10}{'space':>9}{'explored':>9}", file=out)
    for r in rows:
        frac = 100.0 * r.evaluated / r.space if r.space else 0.0
        note = " (resumed)" if r.resumed else ""
        print(f"  {r.node[:33]:<34}{r.kind:<13}{'x'.join(map(str, r.loops))[:25]:<26}"
              f"{r.heuristic_seconds * 1e6:>13.1f}{r.best_seconds * 1e6:>10.1f}{r.speedup:>7.2f}x"
              f"{r.evaluated:>10}{r.space:>9}{frac:>8.2f}%{note}", file=out)


def plot_convergence(curves: dict, path: str, title: str) -> None:
    """curves: method -> (evaluations, total modeled seconds of the groups' best so far)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for method, (xs, ys) in curves.items():
        ax.plot(xs, [y * 1e3 for y in ys], label=method)
    ax.set_xlabel("configurations evaluated per group")
    ax.set_ylabel("sum of the groups' best modeled time (ms)")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def total_curve(results, budget: int):
    """Sum over groups of each group's best-so-far after i evaluations (a group's start counts from 1)."""
    xs = list(range(1, budget + 1))
    ys = []
    for i in xs:
        tot = 0.0
        for r in results:
            c = r.curve
            tot += min(r.heuristic_seconds, c[min(i, len(c)) - 1]) if c else r.best_seconds
        ys.append(tot)
    return xs, ys


def main(a) -> int:
    from .db import TuningDB
    from .driver import METHODS, tune_model
    methods = [m.strip() for m in a.method.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise CompileError(f"unknown --method {', '.join(unknown) or a.method!r}; methods: {', '.join(METHODS)}",
                           stage="tune")
    if a.budget < 1:
        raise CompileError("--budget must be at least 1", stage="tune")
    if a.plot:
        from swmlir.cli import _out_file_check
        _out_file_check(a.plot, "--plot")
    shapes = None
    if a.input_shape:
        from swmlir.cli import _shapes
        shapes = _shapes(a.input_shape)
    db = TuningDB(a.db)
    before = len(db)
    curves, sessions = {}, {}
    for method in methods:
        count = [0]

        def progress(r, method=method):
            count[0] += 1
            sys.stderr.write(f"\r  {method}: group {count[0]} {r.node[:40]:<40} {r.speedup:5.2f}x"
                             f"{'' if sys.stderr.isatty() else chr(10)}")
            sys.stderr.flush()
        # several methods: each searches from the heuristic on its own, the database keeps the best of them
        mdb = db if len(methods) == 1 else TuningDB(None)
        print(f"swmlir tune: {os.path.basename(a.model)} on {a.target}, {method}, budget {a.budget} per group")
        session, secs = tune_model(a.model, a.target, method=method, budget=a.budget, db=mdb, seed=a.seed,
                                   input_shapes=shapes, progress=progress)
        sys.stderr.write("\n")
        rows = list(session.results.values())
        sessions[method] = session
        _print_table(rows)
        h = sum(r.heuristic_seconds for r in rows)
        b = sum(r.best_seconds for r in rows)
        print(f"  {len(rows)} distinct groups in {secs:.1f} s: heuristic {h * 1e3:.3f} ms, best {b * 1e3:.3f} ms "
              f"({h / b if b else 1.0:.2f}x, sum over distinct groups, analytic model)")
        curves[method] = total_curve(rows, a.budget)
    if len(methods) > 1:
        for key in {k for s in sessions.values() for k in s.results}:
            best = min((s.results[key] for s in sessions.values() if key in s.results), key=lambda r: r.best_seconds)
            old = db.get(key)
            if old is None or best.best_seconds < old["seconds"]:
                src = next(m for m, s in sessions.items() if s.results.get(key) is best)
                db.put(dict(sessions[src].db.get(key)))
    print(f"swmlir tune: {a.db}: {len(db)} entries ({len(db) - before} new); apply with "
          f"swmlir compile {a.model} --target {a.target} --tuning-db {a.db}")
    if a.plot:
        plot_convergence(curves, a.plot, f"{os.path.basename(a.model)} on {a.target}")
        print(f"swmlir tune: convergence plot -> {a.plot}")
    return 0
