"""swmlir-opt: mlir-opt for swmlir: the upstream passes plus ours, with the sunway dialect loaded.

    swmlir-opt in.mlir --pass-pipeline="builtin.module(sunway-lower-ldm, canonicalize)"
    swmlir-opt in.mlir --sunway-lower-dma --canonicalize -o out.mlir
Flags that are not options of this tool are pass names, run in the order given (ours or upstream).
"""
from __future__ import annotations

import sys

from mlir import ir

from . import passes as _passes
from .dialects import load_sunway_dialect
from .errors import CompileError
from .pass_pipeline import run_pipeline

SPLIT_MARKER = "// -----"


def _usage() -> str:
    reg = _passes.load_all()
    lines = ["usage: swmlir-opt [FILE|-] [options] [--PASS[={opts}] ...]", "",
             "options:",
             "  --pass-pipeline=PIPELINE      e.g. \"builtin.module(sunway-lower-ldm, func.func(cse))\"",
             "  -o FILE                       output file (default: stdout)",
             "  --split-input-file            process each `// -----` chunk separately",
             "  --mlir-print-ir-after-all     print the IR after every pass (to stderr)",
             "  --mlir-print-debuginfo        print locations", "",
             "swmlir passes (use as --FLAG or inside --pass-pipeline; options as FLAG{key=value}):"]
    for flag in sorted(reg):
        info = reg[flag]
        lines.append(f"  --{flag:<28} {info.summary}")
        for k, o in info.options.items():
            lines.append(f"      {k}={o.default!s:<14} {o.help}")
    lines += ["", "Any other --NAME is an upstream MLIR pass (e.g. --canonicalize, --cse, "
              "--convert-linalg-to-loops)."]
    return "\n".join(lines)


def parse_args(argv: list[str]):
    opts = {"input": "-", "output": "-", "split": False, "print_after_all": False, "debuginfo": False}
    pipeline: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help", "-help"):
            opts["help"] = True
        elif a == "-o":
            i += 1
            opts["output"] = argv[i]
        elif a.startswith("-o") and len(a) > 2 and not a.startswith("--"):
            opts["output"] = a[2:]
        elif a.startswith("--pass-pipeline="):
            pipeline.append(("pipeline", a.split("=", 1)[1]))
        elif a == "--pass-pipeline":
            i += 1
            pipeline.append(("pipeline", argv[i]))
        elif a == "--split-input-file":
            opts["split"] = True
        elif a == "--mlir-print-ir-after-all":
            opts["print_after_all"] = True
        elif a == "--mlir-print-debuginfo":
            opts["debuginfo"] = True
        elif a.startswith("--"):
            name = a[2:]
            if "=" in name and ("{" not in name or name.index("=") < name.index("{")):  # --pass=opts form
                name, _, o = name.partition("=")
                o = o[1:-1] if o.startswith("{") and o.endswith("}") else o
                name = f"{name}{{{o}}}"
            pipeline.append(("pass", name))
        elif a == "-" or not a.startswith("-"):
            opts["input"] = a
        else:
            raise CompileError(f"unknown option {a}", stage="swmlir-opt")
        i += 1
    return opts, pipeline


def process(text: str, pipeline, opts) -> str:
    with ir.Context() as ctx, ir.Location.unknown():
        load_sunway_dialect(ctx)
        try:
            module = ir.Module.parse(text)
        except ir.MLIRError as e:
            raise CompileError(f"cannot parse input: {e}", stage="parse") from None
        for kind, item in pipeline:
            run_pipeline(module, item, print_ir_after_all=opts["print_after_all"])
        try:
            module.operation.verify()
        except ir.MLIRError as e:
            raise CompileError(f"the result does not verify: {e}", stage="verify") from None
        return module.operation.get_asm(enable_debug_info=opts["debuginfo"])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, pipeline = parse_args(argv)
    except (CompileError, IndexError) as e:
        print(f"swmlir-opt: error: {e}\n\n{_usage()}", file=sys.stderr)
        return 2
    if opts.get("help"):
        print(_usage())
        return 0
    text = sys.stdin.read() if opts["input"] == "-" else open(opts["input"]).read()
    chunks = text.split(SPLIT_MARKER) if opts["split"] else [text]
    outputs, status = [], 0
    for chunk in chunks:
        try:
            outputs.append(process(chunk, pipeline, opts))
        except CompileError as e:
            print(f"error: {e}", file=sys.stderr)
            status = 1
    result = f"\n{SPLIT_MARKER}\n".join(outputs)
    if opts["output"] == "-":
        sys.stdout.write(result)
    else:
        with open(opts["output"], "w") as f:
            f.write(result)
    return status


if __name__ == "__main__":
    sys.exit(main())
