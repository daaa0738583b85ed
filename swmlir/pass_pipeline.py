"""Run textual pass pipelines that mix upstream MLIR passes and swmlir's Python passes, in ONE PassManager.

MLIR's pipeline parser does not know Python passes (the bindings cannot register them), so the pipeline text
is parsed here: `builtin.module(canonicalize, sunway-lower-dma{...}, func.func(cse, sunway-lower-ldm))`.
Every element then goes into one `PassManager("builtin.module")`:

- an upstream element is added as text (`pm.add("func.func(cse)")`), options and nesting as written;
- one of our passes is added as a Python pass (`pm.add(callable, name=SunwayLowerLdm, argument=flag)`).
  Named inside `func.func(...)`, it runs once per function from a module-level Python pass (a Python pass
  with op_name="func.func" cannot be scheduled: reference/mlir-22-recipe.md section 10), so the upstream
  elements of a `func.func(...)` are grouped around ours in order.

So the verifier runs after every pass (ours included), `--mlir-print-ir-after-all` and `--mlir-timing`
see ours, and a CompileError raised in one of our passes becomes an error diagnostic at the location of the op
it names (else the op the pass runs on), followed by a pass failure. `run_pipeline` turns the failure into a
CompileError naming the pass and the location, on one line.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Callable, TextIO

from mlir import ir
from mlir.passmanager import PassManager

from . import passes as _passes
from .errors import CompileError


# ---------------------------------------------------------------------------------------------------------------
# The textual pipeline: `name{options}(children), ...`


@dataclass
class Element:
    """One element of a textual pipeline: a pass (`name{options}`) or an anchor with its nested elements."""
    name: str
    options: str | None = None          # the text between { and }, None when there are no braces
    children: list["Element"] | None = None
    text: str = ""                      # the element as written (for upstream elements: what pm.add gets)


class _Parser:
    def __init__(self, text: str):
        self.s, self.i = text, 0

    def error(self, msg: str):
        raise CompileError(f"bad pass pipeline '{self.s}': {msg} (at column {self.i + 1})", stage="pipeline")

    def ws(self):
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def elements(self, closing: str | None) -> list[Element]:
        out = []
        while True:
            self.ws()
            if closing and self.i < len(self.s) and self.s[self.i] == closing and not out:
                return out                                 # `anchor()`: nothing nested
            out.append(self.element())
            self.ws()
            if self.i >= len(self.s):
                if closing:
                    self.error(f"missing '{closing}'")
                return out
            c = self.s[self.i]
            if c == ",":
                self.i += 1
                continue
            if closing and c == closing:
                return out
            self.error(f"expected ',' or {'`' + closing + '`' if closing else 'the end'}, found '{c}'")

    def element(self) -> Element:
        start = self.i
        while self.i < len(self.s) and not self.s[self.i].isspace() and self.s[self.i] not in "{}(),":
            self.i += 1
        name = self.s[start:self.i]
        if not name:
            self.error("expected a pass name")
        el = Element(name)
        self.ws()
        if self.i < len(self.s) and self.s[self.i] == "{":
            el.options = self.braces()
            self.ws()
        if self.i < len(self.s) and self.s[self.i] == "(":
            self.i += 1
            el.children = self.elements(")")
            self.i += 1
        el.text = self.s[start:self.i].strip()
        return el

    def braces(self) -> str:
        """The text inside a balanced {...} (nested braces and quoted strings allowed)."""
        assert self.s[self.i] == "{"
        depth, j, quote = 0, self.i, None
        while j < len(self.s):
            c = self.s[j]
            if quote:
                if c == quote:
                    quote = None
            elif c in "\"'":
                quote = c
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    inner = self.s[self.i + 1:j]
                    self.i = j + 1
                    return inner
            j += 1
        self.error("unbalanced '{' in the options")


def parse_pipeline_text(text: str) -> list[Element]:
    """The elements run on the module: `builtin.module(a, b)` -> [a, b]; a bare list `a, b` is taken as that too."""
    els = _Parser(text.strip()).elements(None) if text.strip() else []
    if len(els) == 1 and els[0].name == "builtin.module" and els[0].children is not None:
        if els[0].options is not None:
            raise CompileError(f"bad pass pipeline '{text}': an anchor takes no options", stage="pipeline")
        return els[0].children
    return els


def split_top_level(text: str) -> list[str]:
    """Split `a, b{x=1}, func.func(c, d)` at commas that are not nested in (), {} (the elements as written)."""
    return [e.text for e in _Parser(text.strip()).elements(None)] if text.strip() else []


def parse_pipeline(text: str) -> list[str]:
    """Elements of `builtin.module(...)` (the anchor may be omitted), as written."""
    return [e.text for e in parse_pipeline_text(text)]


# ---------------------------------------------------------------------------------------------------------------
# The plan: what goes into the PassManager, in order


@dataclass
class _Upstream:
    text: str


@dataclass
class _Ours:
    info: _passes.PassInfo
    options: dict = field(default_factory=dict)
    nested: bool = False            # run on each func.func of the module
    text: str = ""                  # as written, options included (a reproducer's pipeline)

    @property
    def label(self) -> str:
        return f"func.func({self.info.flag})" if self.nested else self.info.flag


def _ours(el: Element) -> _passes.PassInfo | None:
    return _passes.load_all().get(el.name) if el.children is None else None


def _has_ours(els: list[Element]) -> bool:
    return any(_ours(e) or (e.children and _has_ours(e.children)) for e in els)


def _options(info: _passes.PassInfo, el: Element) -> dict:
    try:
        return info.parse_options(el.options or "")
    except ValueError as e:
        raise CompileError(str(e), stage="pipeline") from None


def plan(elements: list[Element]) -> list[_Upstream | _Ours]:
    steps: list[_Upstream | _Ours] = []
    for el in elements:
        info = _ours(el)
        if info is not None:
            steps.append(_Ours(info, _options(info, el), text=el.text))
            continue
        if el.children is None or not _has_ours(el.children):
            steps.append(_Upstream(el.text))
            continue
        if el.name != "func.func":
            raise CompileError(f"bad pass pipeline: swmlir passes run on the module or nested in func.func, "
                               f"not in '{el.name}' ({el.text})", stage="pipeline")
        group: list[str] = []
        for child in el.children:
            cinfo = _ours(child)
            if cinfo is None:
                if child.children and _has_ours(child.children):
                    raise CompileError(f"bad pass pipeline: swmlir passes nest only directly in func.func, "
                                       f"not in '{child.text}'", stage="pipeline")
                group.append(child.text)
                continue
            if not cinfo.nestable:
                raise CompileError(f"pass '{cinfo.flag}' runs on the whole module (builtin.module): it cannot "
                                   f"be nested in func.func", stage="pipeline")
            if group:
                steps.append(_Upstream(f"func.func({','.join(group)})"))
                group = []
            steps.append(_Ours(cinfo, _options(cinfo, child), nested=True, text=f"func.func({child.text})"))
        if group:
            steps.append(_Upstream(f"func.func({','.join(group)})"))
    return steps


def _upstream_error(text: str, e: Exception) -> CompileError:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    errs = [ln.split("error: ", 1)[1] for ln in lines if "error: " in ln]
    msg = "; ".join(errs) if errs else "; ".join(lines)
    return CompileError(f"bad pass pipeline element '{text}': {msg or 'not a pass or pass pipeline'}",
                        stage="pipeline")


# ---------------------------------------------------------------------------------------------------------------
# Running it


def file_location(loc: ir.Location | None):
    """The file:line:col location under name/call-site/fused locations, or None."""
    for _ in range(16):
        if loc is None:
            return None
        if loc.is_a_file():
            return loc
        if loc.is_a_name():
            loc = loc.child_loc
        elif loc.is_a_callsite():
            loc = loc.callee
        elif loc.is_a_fused():
            subs = list(loc.locations)
            loc = subs[0] if subs else None
        else:
            return None
    return None


def format_location(loc: ir.Location | None) -> str:
    """`file:line:col` of a location (through name and call-site locations), '' when it has none."""
    fl = file_location(loc)
    return f"{fl.filename}:{fl.start_line}:{fl.start_col}" if fl is not None else ""


class _Tracker:
    """Which step is running (for the failure message) and how long each took (for `timing`)."""

    def __init__(self, steps, timing):
        self.steps, self.timing = steps, timing
        self.index, self.done = -1, False       # the step running (or last begun) and whether it finished
        self.open: tuple[str, float] | None = None   # the upstream step being timed since its marker
        self.exc: BaseException | None = None
        self.exc_loc: ir.Location | None = None
        self.markers = False

    def _close(self, now: float):
        if self.open and self.timing:
            self.timing(self.open[0], now - self.open[1])
        self.open = None

    def begin(self, index: int):
        now = time.perf_counter()
        self._close(now)
        self.index, self.done = index, False
        step = self.steps[index]
        if isinstance(step, _Upstream):
            self.open = (step.text, now)

    def end(self):
        self._close(time.perf_counter())


def _function_targets(op: ir.Operation) -> list[ir.Operation]:
    return [o.operation for o in op.regions[0].blocks[0].operations if o.operation.name == "func.func"]


def _one_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0]


def _make_pass(index: int, step: _Ours, tracker: _Tracker):
    info, options = step.info, step.options

    def run(op, pass_):
        tracker.begin(index)
        t0 = time.perf_counter()
        current = op
        try:
            for target in (_function_targets(op) if step.nested else [op]):
                current = target
                info.run(target, **options)
        except CompileError as e:
            loc = e.location or current.location
            _fail(pass_, tracker, e, loc, str(e))
        except ir.MLIRError as e:   # an MLIR failure inside our pass (e.g. a transform script it ran)
            d = e.error_diagnostics[0] if e.error_diagnostics else None
            loc = d.location if d is not None else current.location
            msg = d.message if d is not None else _one_line(e)
            err = CompileError(msg, location=loc)
            _fail(pass_, tracker, err, loc, msg)
        except Exception as e:      # a bug of ours: still a located error, the exception is re-raised after
            _fail(pass_, tracker, e, current.location, f"internal error: {type(e).__name__}: {_one_line(e)}")
        else:
            tracker.done = True
        finally:
            if tracker.timing:
                tracker.timing(step.label, time.perf_counter() - t0)

    return run


def _fail(pass_, tracker: _Tracker, exc: BaseException, loc: ir.Location, message: str):
    tracker.exc, tracker.exc_loc = exc, loc
    loc.emit_error(message)
    pass_.signal_pass_failure()   # emit_error without it aborts the process (recipe section 10)


def build_pass_manager(context: ir.Context, steps, tracker: _Tracker, *, markers: bool) -> PassManager:
    pm = PassManager("builtin.module", context=context)
    for index, step in enumerate(steps):
        if isinstance(step, _Ours):
            pm.add(_make_pass(index, step, tracker), name=step.info.pass_name, argument=step.info.flag)
            continue
        if markers:   # a no-op Python pass in front of each upstream element: which one failed, its time
            pm.add(lambda op, p, _i=index: tracker.begin(_i), name="SwmlirMark", argument="swmlir-mark")
        try:
            pm.add(step.text)
        except ValueError as e:
            raise _upstream_error(step.text, e) from None
    return pm


def run_pipeline(module: ir.Module | ir.Operation, pipeline: str | list[str], *, print_ir_after_all: bool = False,
                 out: TextIO = sys.stderr, timing: Callable[[str, float], None] | None = None,
                 mlir_timing: bool = False, verify_each: bool = True, reproducer: bool = True) -> None:
    """Run `pipeline` (text, or a list of elements) on `module` in place, in one PassManager.

    print_ir_after_all: MLIR's IR printing after every pass (ours too), to the process's stderr (`out` is not
    used: MLIR writes there itself). timing(name, seconds) is called for each of our passes and each upstream
    element. mlir_timing: MLIR's pass timing report, printed to stderr when the run ends.
    Raises CompileError (one line: the pass, the location, the message) when a pass fails or its result does
    not verify; a CompileError raised in one of our passes comes out as itself (same type), message prefixed.
    reproducer: then also write the IR before the failing pass and the swmlir-opt command that fails the same
    way (swmlir.reproducer), named at the end of the message (the module is cloned first to keep that IR).
    """
    op = module.operation if isinstance(module, ir.Module) else module
    steps = plan(_elements(pipeline))
    if not steps:
        return
    tracker = _Tracker(steps, timing)
    tracker.markers = not (print_ir_after_all or mlir_timing)
    pm = build_pass_manager(op.context, steps, tracker, markers=tracker.markers)
    pm.enable_verifier(verify_each)
    if print_ir_after_all:
        pm.enable_ir_printing(print_after_all=True)
    if mlir_timing:
        pm.enable_timing()
    snapshot = op.clone() if reproducer and _reproducers_on() else None
    try:
        pm.run(op)
    except ir.MLIRError as e:
        err = _failure(e, steps, tracker)
        if snapshot is not None:
            from .reproducer import attach
            attach(err, snapshot, steps, tracker)
        raise err from None
    finally:
        tracker.end()
        del pm   # the timing report is printed when the PassManager goes away


def _reproducers_on() -> bool:
    import os
    return os.environ.get("SWMLIR_REPRODUCER", "1") != "0"


def _upstream_after(steps, i: int) -> list[str]:
    """The upstream elements from step i+1 up to the next one of ours."""
    out = []
    for s in steps[i + 1:]:
        if isinstance(s, _Ours):
            break
        out.append(s.text)
    return out


def _failure(e: ir.MLIRError, steps, tracker: _Tracker) -> BaseException:
    exc = tracker.exc
    if isinstance(exc, CompileError):
        return exc.in_pass(steps[tracker.index].label, format_location(tracker.exc_loc))
    if exc is not None:
        exc.add_note(f"in pass {steps[tracker.index].label}, at {format_location(tracker.exc_loc) or 'the module'}")
        return exc
    diags = list(e.error_diagnostics)
    if diags:
        where, msg = format_location(diags[0].location), diags[0].message
    else:   # the diagnostics went to a handler (ctx.emit_error_diagnostics): the caller has them
        lines = [ln for ln in str(e).splitlines()[1:] if ln.strip()]
        where, msg = "", (lines[0].strip() if lines else _one_line(e))
    at = f" at {where}" if where else ""
    i = tracker.index
    if i >= 0 and isinstance(steps[i], _Ours):
        after = _upstream_after(steps, i)
        if tracker.markers or not after:   # our pass finished and the verifier after it failed
            return CompileError(f"the IR after pass {steps[i].label} does not verify{at}: {msg}",
                                stage=steps[i].info.flag)
        return CompileError(f"pass {steps[i].label} (its result does not verify) or an upstream pass after it "
                            f"('{','.join(after)}') failed{at}: {msg}", stage="pipeline")
    if i >= 0:
        return CompileError(f"pass {steps[i].text} failed{at}: {msg}", stage="pipeline")
    return CompileError(f"upstream passes '{','.join(_upstream_after(steps, i))}' failed{at}: {msg}",
                        stage="pipeline")


def pass_manager_text(pipeline: str | list[str]) -> str:
    """The pipeline as MLIR would print it (`builtin.module(...)`), our passes by flag (for --help and tests)."""
    parts = [s.text if isinstance(s, _Upstream) else s.label for s in plan(_elements(pipeline))]
    return f"builtin.module({','.join(parts)})"


def _elements(pipeline: str | list[str]) -> list[Element]:
    return parse_pipeline_text(pipeline) if isinstance(pipeline, str) else \
        [el for item in pipeline for el in parse_pipeline_text(item)]


def check_pipeline(pipeline: str | list[str]) -> None:
    """Raise CompileError (one line) if `pipeline` names an unknown pass or gives a pass a bad option."""
    steps = plan(_elements(pipeline))
    with ir.Context() as ctx:
        build_pass_manager(ctx, steps, _Tracker(steps, None), markers=False)
