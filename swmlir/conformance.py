"""`swmlir conformance`: the ONNX backend node tests through the full path (import, Sunway schedule, emitted C,
host emulator), each compared with the test's reference outputs.

The suite is generated in memory by onnx (onnx.backend.test.case.node.collect_testcases). Tests run in worker
processes, so a crash (an MLIR abort, an emulator failure) costs one test, not the run. Statuses:
  passed       outputs match (the test's rtol/atol, exact for integers and booleans)
  unsupported  the importer refused the model with the all-at-once unsupported-op error
  failed       anything else: wrong numbers, a compile error, a crash, a timeout
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import re
import sys
import time
import traceback
import warnings

import numpy as np

_CASES = None


def all_cases() -> dict:
    global _CASES
    if _CASES is None:
        import onnx.backend.test.case.node as node
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                _CASES = {c.name: c for c in node.collect_testcases(None)}
    return _CASES


def _arrays(values) -> list:
    """Node-test data may be TensorProtos (the cast tests keep float8/bfloat16 exact that way)."""
    import onnx
    return [onnx.numpy_helper.to_array(v) if isinstance(v, onnx.TensorProto) else v for v in values]


def _compare(got: list, expected: list, rtol: float, atol: float) -> str | None:
    if len(got) != len(expected):
        return f"{len(got)} outputs, expected {len(expected)}"
    for i, (g, e) in enumerate(zip(got, expected)):
        e = np.asarray(e)
        g = np.asarray(g)
        if e.dtype == object:
            return f"output {i}: non-tensor reference output"
        if g.shape != e.shape:
            return f"output {i}: shape {list(g.shape)}, expected {list(e.shape)}"
        if g.dtype != e.dtype:
            return f"output {i}: dtype {g.dtype}, expected {e.dtype}"
        if np.issubdtype(e.dtype, np.floating) or np.issubdtype(e.dtype, np.complexfloating):
            if not np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=True):
                d = np.abs(g.astype(np.float64) - e.astype(np.float64))
                return f"output {i}: max abs diff {np.nanmax(d):.3g} (rtol {rtol}, atol {atol})"
        elif not np.array_equal(g, e):
            return f"output {i}: {int((g != e).sum())} of {e.size} elements differ"
    return None


def run_case(name: str, target: str) -> tuple[str, str]:
    """(status, reason) of one node test."""
    from .backend import SwmlirBackend
    from .errors import CompileError, UnsupportedOpsError
    case = all_cases()[name]
    try:
        rep = SwmlirBackend.prepare(case.model, "CPU", target=target)
    except UnsupportedOpsError as e:
        return "unsupported", str(e).splitlines()[0]
    except CompileError as e:
        return "failed", f"compile: {str(e).splitlines()[0][:300]}"
    except Exception as e:  # a bug of ours: report it as a failure, with where it happened
        tb = traceback.extract_tb(e.__traceback__)[-1]
        return "failed", f"compiler bug: {type(e).__name__}: {str(e)[:200]} ({os.path.basename(tb.filename)}:{tb.lineno})"
    for inputs, expected in case.data_sets:
        inputs, expected = _arrays(inputs), _arrays(expected)
        try:
            got = rep.run(list(inputs))
        except CompileError as e:
            return "failed", f"compile (specialized on inputs): {str(e).splitlines()[0][:300]}"
        except Exception as e:
            return "failed", f"run: {str(e).splitlines()[0][:300]}"
        why = _compare(got, list(expected), case.rtol, case.atol)
        if why:
            return "failed", f"wrong result: {why}"
    note = f"specialized on the values of inputs {rep.specialized_on}" if rep.specialized_on else ""
    return "passed", note


def _worker(target: str, todo: "mp.Queue", done: "mp.Queue") -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    while True:
        name = todo.get()
        if name is None:
            return
        done.put(("start", name, os.getpid()))
        status, reason = run_case(name, target)
        done.put(("done", name, status, reason))


def run_suite(names: list[str], *, target: str, jobs: int, timeout: float = 300.0,
              on_result=None) -> dict[str, tuple[str, str]]:
    """Run the named tests in `jobs` worker processes; a dead or stuck worker fails its test and is replaced."""
    ctx = mp.get_context("spawn")
    todo, done = ctx.Queue(), ctx.Queue()
    for n in names:
        todo.put(n)
    workers: dict[int, mp.Process] = {}
    running: dict[int, tuple[str, float]] = {}

    def start():
        p = ctx.Process(target=_worker, args=(target, todo, done), daemon=True)
        p.start()
        workers[p.pid] = p

    for _ in range(max(1, jobs)):
        start()
    results: dict[str, tuple[str, str]] = {}
    while len(results) < len(names):
        try:
            msg = done.get(timeout=1.0)
        except queue.Empty:
            msg = None
        if msg and msg[0] == "start":
            running[msg[2]] = (msg[1], time.time())
        elif msg and msg[0] == "done":
            results[msg[1]] = (msg[2], msg[3])
            for pid, (n, _) in list(running.items()):
                if n == msg[1]:
                    del running[pid]
            if on_result:
                on_result(msg[1], msg[2], msg[3])
        for pid, p in list(workers.items()):
            stuck = pid in running and time.time() - running[pid][1] > timeout
            if not p.is_alive() or stuck:
                if stuck:
                    p.kill()
                p.join(1)
                del workers[pid]
                if pid in running:
                    n, _ = running.pop(pid)
                    if n not in results:
                        why = "timeout" if stuck else f"worker died (exit code {p.exitcode})"
                        results[n] = ("failed", f"crash: {why}")
                        if on_result:
                            on_result(n, *results[n])
                if len(results) + len(running) < len(names):
                    start()
    for _ in workers:
        todo.put(None)
    for p in workers.values():
        p.join(5)
    return results


def main(args) -> int:
    cases = all_cases()
    names = sorted(cases)
    if args.filter:
        rx = re.compile(args.filter)
        names = [n for n in names if rx.search(n)]
    if not names:
        print("no test matches the filter", file=sys.stderr)
        return 2

    def report(name, status, reason):
        if status == "failed" and not args.quiet:
            print(f"FAILED {name}: {reason}", flush=True)

    t0 = time.time()
    results = run_suite(names, target=args.target, jobs=args.jobs, timeout=args.timeout, on_result=report)
    counts = {s: sum(1 for v in results.values() if v[0] == s) for s in ("passed", "failed", "unsupported")}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"target": args.target, "total": len(names), "seconds": round(time.time() - t0, 1),
                       "counts": counts,
                       "tests": [{"name": n, "status": results[n][0], "reason": results[n][1]} for n in names]},
                      f, indent=1)
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['unsupported']} unsupported")
    return 0
