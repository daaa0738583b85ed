"""The Sunway dialect, defined once in IRDL (sunway.irdl.mlir) and loaded into an MLIR context on demand."""
from __future__ import annotations

import os

from mlir import ir
from mlir.dialects import irdl

IRDL_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sunway.irdl.mlir")

LDM_SPACE = 2
"""Memory space of the CPE local data memory (LDM) in memref types; main memory is the default space."""


def load_sunway_dialect(context: ir.Context | None = None) -> None:
    """Register the sunway dialect in `context` (or the current one); loading twice is a no-op."""
    ctx = context or ir.Context.current
    if ctx.is_registered_operation("sunway.cpe_id"):
        return
    with open(IRDL_FILE) as f:
        text = f.read()
    with ctx:
        irdl.load_dialects(ir.Module.parse(text))


def memory_space(memref_type: ir.Type) -> int:
    """The integer memory space of a memref type (0 when it has none)."""
    ms = ir.MemRefType(memref_type).memory_space
    return 0 if ms is None else ir.IntegerAttr(ms).value


def is_ldm(memref_type: ir.Type) -> bool:
    return isinstance(memref_type, ir.MemRefType) and memory_space(memref_type) == LDM_SPACE
