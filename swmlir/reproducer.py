"""Reproducers of pass failures: the IR just before the failing pass, and the swmlir-opt command that fails on it.

When a pipeline run by swmlir.pass_pipeline.run_pipeline fails, the error is one line naming the pass; this module
adds `; reproducer: swmlir-opt FILE -pass-pipeline='builtin.module(PASS)'` to it. FILE holds the module as it
was before the failing pass, printed with its locations (so that swmlir-opt reports the same ones) and its
resources (the weights: a pass may depend on their values). It is made from a clone of the module taken before
the pipeline started: the steps before the failing one are run again on it (they succeeded once; if they do not
the second time, the file holds the IR at the start of the pipeline and the command runs them too).

Files go to $SWMLIR_REPRODUCER_DIR, else the system's temporary folder, as swmlir-reproducer-<pass>-*.mlir;
SWMLIR_REPRODUCER=0 writes none (a test suite that fails passes on purpose).
"""
from __future__ import annotations

import os
import re
import shlex
import tempfile

from mlir import ir

ENV_DIR = "SWMLIR_REPRODUCER_DIR"


def _step_text(step) -> str:
    return step.text or getattr(step, "label", "")


def _failing_steps(steps, tracker) -> tuple[int, int]:
    """[first, end) of the steps the reproducer runs: the one that failed (tracker.index, as in
    pass_pipeline._failure); without markers in front of the upstream elements (IR printing, MLIR timing), an
    upstream failure is known only to come after the last of our passes that began, so those steps all run."""
    from .pass_pipeline import _Ours

    def next_ours(k: int) -> int:
        while k < len(steps) and not isinstance(steps[k], _Ours):
            k += 1
        return k

    i = tracker.index
    if i < 0:                                   # before any of ours, no markers: the upstream steps up to it
        return 0, max(1, next_ours(0))
    if tracker.markers or not isinstance(steps[i], _Ours) or not tracker.done:
        return i, i + 1
    return i, max(i + 1, next_ours(i + 1))      # ours finished: its verifier or an upstream step after it


def write(snapshot: ir.Operation, steps, tracker, message: str) -> tuple[str, str]:
    """Write the reproducer of a failure of `steps` (plan of pass_pipeline) whose input was `snapshot`;
    returns (path, swmlir-opt command)."""
    from .pass_pipeline import _Tracker, build_pass_manager
    first, end = _failing_steps(steps, tracker)
    module = snapshot
    if first > 0:
        replay = snapshot.clone()
        try:
            before = steps[:first]
            build_pass_manager(snapshot.context, before, _Tracker(before, None), markers=False).run(replay)
            module = replay
        except ir.MLIRError:
            first = 0            # it did not replay: start from the pipeline's input
    pipeline = f"builtin.module({','.join(_step_text(s) for s in steps[first:end])})"
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", _step_text(steps[min(first, len(steps) - 1)]).split("{")[0])[:40]
    folder = os.environ.get(ENV_DIR) or tempfile.gettempdir()
    os.makedirs(folder, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix=f"swmlir-reproducer-{name.strip('-')}-", suffix=".mlir", dir=folder)
    command = f"swmlir-opt {shlex.quote(path)} -pass-pipeline={shlex.quote(pipeline)}"
    with os.fdopen(fd, "w") as f:
        f.write(f"// swmlir reproducer: {message}\n// {command}\n")
        module.print(file=f, enable_debug_info=True)
    return path, command


def attach(err: BaseException, snapshot: ir.Operation, steps, tracker) -> None:
    """Write the reproducer and name it at the end of `err`'s message (a note for an internal error)."""
    message = (str(err).strip().splitlines() or [""])[0]
    try:
        path, command = write(snapshot, steps, tracker, message)
    except (OSError, ir.MLIRError) as e:   # no reproducer is no reason to hide the failure itself
        note = f"(no reproducer: {e})"
    else:
        err.reproducer = path
        note = f"reproducer: {command}"
    from .errors import CompileError
    if isinstance(err, CompileError) and err.args:
        err.args = (f"{err.args[0]}; {note}", *err.args[1:])
    else:
        err.add_note(note)
