"""Run textual pass pipelines that mix upstream MLIR passes and swmlir's Python passes.

Python passes cannot be registered with MLIR's pipeline parser, so a pipeline such as
`builtin.module(canonicalize, sunway-lower-dma, func.func(cse))` is split at the top level: consecutive upstream
elements run in one upstream PassManager, and each of our passes runs as a Python function in between.
"""
from __future__ import annotations

import sys
from typing import Callable, TextIO

from mlir import ir
from mlir.passmanager import PassManager

from . import passes as _passes
from .errors import CompileError


def split_top_level(text: str) -> list[str]:
    """Split `a, b{x=1}, func.func(c, d)` at commas that are not nested in (), {} or []."""
    items, depth, cur = [], 0, []
    for ch in text:
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        items.append("".join(cur).strip())
    return items


def parse_pipeline(text: str) -> list[str]:
    """Elements of `builtin.module(...)` (the anchor may be omitted)."""
    text = text.strip()
    if text.startswith("builtin.module(") and text.endswith(")"):
        text = text[len("builtin.module("):-1]
    return split_top_level(text)


def _our_pass(element: str):
    name, _, rest = element.partition("{")
    info = _passes.load_all().get(name.strip())
    if info is None:
        return None
    options = info.parse_options(rest.rstrip("}")) if rest else {}
    return info, options


def run_pipeline(module: ir.Module, pipeline: str | list[str], *, print_ir_after_all: bool = False,
                 out: TextIO = sys.stderr, timing: Callable[[str, float], None] | None = None) -> None:
    """Run `pipeline` on `module` in place. Upstream failures raise CompileError with MLIR's diagnostics."""
    import time

    elements = parse_pipeline(pipeline) if isinstance(pipeline, str) else list(pipeline)
    upstream: list[str] = []

    def flush():
        if not upstream:
            return
        text = "builtin.module(" + ",".join(upstream) + ")"
        t0 = time.perf_counter()
        try:
            pm = PassManager.parse(text, module.context)
        except ValueError as e:
            raise CompileError(f"bad pass pipeline '{text}': {e}", stage="pipeline") from None
        if print_ir_after_all:
            pm.enable_ir_printing(print_after_all=True)
        try:
            pm.run(module.operation)
        except ir.MLIRError as e:
            raise CompileError(f"upstream passes '{','.join(upstream)}' failed: {e}", stage="pipeline") from None
        if timing:
            timing(",".join(upstream), time.perf_counter() - t0)
        upstream.clear()

    for element in elements:
        ours = _our_pass(element)
        if ours is None:
            upstream.append(element)
            continue
        flush()
        info, options = ours
        t0 = time.perf_counter()
        try:
            info.run(module.operation, **options)
        except ir.MLIRError as e:
            raise CompileError(f"pass {info.flag} failed: {e}", stage=info.flag) from None
        if timing:
            timing(info.flag, time.perf_counter() - t0)
        if print_ir_after_all:
            print(f"// -----// IR Dump After {info.flag} //----- //", file=out)
            print(module, file=out)
    flush()
