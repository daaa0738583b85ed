"""swmlir-translate: MLIR in EmitC form -> C (the last step of `swmlir compile`, on its own).

    swmlir-translate --mlir-to-c kernels.mlir -o model_slave.c

Equivalent to upstream `mlir-translate --mlir-to-cpp` (the C emitter), which the xtc wheels ship without
putting it on PATH; this command finds it.
"""
from __future__ import annotations

import argparse
import sys

from .codegen.translate import mlir_to_c
from .errors import CompileError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="swmlir-translate", description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default="-")
    ap.add_argument("--mlir-to-c", action="store_true", required=True, help="emit C from an EmitC module")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args(argv)
    text = sys.stdin.read() if a.input == "-" else open(a.input).read()
    try:
        c = mlir_to_c(text)
    except CompileError as e:
        print(f"swmlir-translate: error: {e}", file=sys.stderr)
        return 1
    if a.output == "-":
        sys.stdout.write(c)
    else:
        with open(a.output, "w") as f:
            f.write(c)
    return 0


if __name__ == "__main__":
    sys.exit(main())
