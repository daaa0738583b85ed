"""`swmlir conformance`: the ONNX backend node tests through the full path (import, Sunway schedule, emitted C,
host emulator), each compared with the test's reference outputs.

The suite is generated in memory by onnx (onnx.backend.test.case.node.collect_testcases). Tests run in worker
processes, so a crash (an MLIR abort, an emulator failure) costs one test, not the run. Statuses:
  passed       outputs match (the test's rtol/atol, exact for integers and booleans)
  unsupported  the importer refused the model with the all-at-once unsupported-op error
  failed       anything else: wrong numbers, a compile error, a crash, a timeout

After a run the results are compared with the expected-pass list (EXPECTED, committed: one test name a line,
written from a full run by `swmlir conformance --write-expected`): every test of the list that did not pass is
named with its reason, the tests that pass but are not in the list are named as new passes, and the exit status
is 1 when any test of the list did not pass (0 otherwise, new passes included).
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
from pathlib import Path

import numpy as np

from . import progress

# the committed expected-pass list (package data, so an installed swmlir has it too)
EXPECTED = Path(__file__).parent / "testing" / "conformance_expected.txt"

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
    os.environ[progress.ENV] = "0"   # the workers' compiles draw nothing: the parent's display is the one
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


def read_expected(path) -> tuple[set[str], str | None]:
    """(test names, target) of an expected-pass list: one name a line, `#` comments, `# target: NAME`."""
    names, target = set(), None
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("#"):
            key, _, value = line[1:].strip().partition(":")
            if key.strip() == "target" and value.strip():
                target = value.strip()
        elif line:
            names.add(line)
    return names, target


def write_expected(path, names, *, target: str, total: int) -> None:
    import onnx
    names = sorted(names)
    with open(path, "w") as f:
        f.write("# ONNX node tests expected to pass through the full Sunway path (swmlir conformance), one a line.\n"
                f"# target: {target}\n"
                f"# onnx {onnx.__version__}: {len(names)} of the {total} node tests\n"
                "# `swmlir conformance` exits 1 when one of these does not pass. Regenerate from a full run\n"
                "# (after checking the regressions it prints): .venv/bin/swmlir conformance --jobs 2 --write-expected\n")
        f.writelines(n + "\n" for n in names)


def compare(results: dict[str, tuple[str, str]], expected: set[str]):
    """(regressed, new_passes) of a run against an expected-pass list, over the tests that ran: regressed are
    (name, status, reason) of the tests of the list that did not pass; new_passes the names that passed but are
    not in the list. Both sorted by name."""
    regressed = [(n, *results[n]) for n in sorted(results) if n in expected and results[n][0] != "passed"]
    new = [n for n in sorted(results) if results[n][0] == "passed" and n not in expected]
    return regressed, new


def _expected_list(args) -> tuple[Path | None, str]:
    """The list to compare with, and why there is none."""
    path = getattr(args, "expected", None)
    if path == "none":
        return None, "--expected none"
    if path:
        return Path(path), ""
    if not EXPECTED.exists():
        return None, f"no expected-pass list at {EXPECTED}"
    _, target = read_expected(EXPECTED)
    if target and target != args.target:
        return None, f"the committed expected-pass list is for target {target} (--expected FILE to compare)"
    return EXPECTED, ""


def main(args) -> int:
    cases = all_cases()
    names = sorted(cases)
    rx = re.compile(args.filter) if args.filter else None
    if rx:
        names = [n for n in names if rx.search(n)]
    if not names:
        print("no test matches the filter", file=sys.stderr)
        return 2
    expected_path, no_list = _expected_list(args)
    if expected_path is not None and not expected_path.exists() and not args.write_expected:
        print(f"swmlir: error: --expected '{expected_path}' does not exist", file=sys.stderr)
        return 2
    expected = read_expected(expected_path)[0] if expected_path is not None and expected_path.exists() else None

    # tests done of the total and the pass count, on a terminal (swmlir.progress)
    shown = progress.bar(len(names), "conformance", "tests")
    counts = {"passed": 0, "failed": 0, "unsupported": 0}

    def report(name, status, reason):
        counts[status] += 1
        if status == "failed" and not args.quiet:
            shown.write(f"FAILED {name}: {reason}")
        shown.set_postfix(f"{counts['passed']} passed, {counts['failed']} failed, {counts['unsupported']} unsupported",
                          refresh=False)
        shown.update()

    t0 = time.time()
    with shown:
        results = run_suite(names, target=args.target, jobs=args.jobs, timeout=args.timeout, on_result=report)
    counts = {s: sum(1 for v in results.values() if v[0] == s) for s in ("passed", "failed", "unsupported")}
    regressed, new = compare(results, expected) if expected is not None else ([], [])
    if args.json:
        record = {"target": args.target, "total": len(names), "seconds": round(time.time() - t0, 1),
                  "counts": counts,
                  "tests": [{"name": n, "status": results[n][0], "reason": results[n][1]} for n in names]}
        if expected is not None:
            record["expected"] = {"list": str(expected_path), "regressed": [r[0] for r in regressed],
                                  "new_passes": new}
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)
    if expected is not None:
        for n, status, reason in regressed:
            print(f"REGRESSED {n} ({status}): {reason}")
        for n in new:
            print(f"NEW PASS {n}")
        gone = sorted(n for n in expected - set(cases) if not rx or rx.search(n))
        if gone:
            print(f"note: {len(gone)} tests of the expected-pass list are not in this onnx's node suite: "
                  f"{', '.join(gone[:10])}{', ...' if len(gone) > 10 else ''}")
        print(f"expected-pass list {expected_path}: "
              + (f"{len(regressed)} of its tests did not pass" if regressed else "all of its tests that ran passed")
              + (f"; {len(new)} tests pass that are not in it (add them: --write-expected)" if new else ""))
    elif not args.write_expected:
        print(f"note: {no_list}: no comparison with expected passes")
    if args.write_expected:
        path = Path(args.write_expected)
        keep = set()   # with --filter, the list's other tests stay as they are
        if rx and path.exists():
            keep = {n for n in read_expected(path)[0] if not rx.search(n)}
        passed = {n for n, (status, _) in results.items() if status == "passed"}
        write_expected(path, keep | passed, target=args.target, total=len(cases))
        print(f"wrote {path}: {len(keep | passed)} expected passes")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['unsupported']} unsupported")
    return 1 if regressed and not args.write_expected else 0
