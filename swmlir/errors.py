"""One exception family for everything a user can get wrong; each names the stage and the offending op."""
from __future__ import annotations


class CompileError(Exception):
    """A model could not be compiled. `stage` is the pipeline stage, `op` the ONNX op or MLIR op at fault."""

    def __init__(self, message: str, *, stage: str = "", op: str = "", node: str = ""):
        self.stage, self.op, self.node, self.reason = stage, op, node, message
        where = " ".join(p for p in (f"[{stage}]" if stage else "", op, f"(node '{node}')" if node else "") if p)
        super().__init__(f"{where}: {message}" if where else message)


class ImportError_(CompileError):
    """The ONNX model is malformed or uses an attribute value we refuse to guess about."""

    def __init__(self, message: str, *, op: str = "", node: str = ""):
        super().__init__(message, stage="import", op=op, node=node)


class UnsupportedOpsError(CompileError):
    """The model uses ONNX ops (or opsets) that have no converter; all of them are listed at once."""

    def __init__(self, missing: list[tuple[str, int, str]]):
        self.missing = missing
        lines = [f"  {op_type} (opset {opset}) at node '{node}'" for op_type, opset, node in missing]
        kinds = sorted({m[0] for m in missing})
        super().__init__(
            f"{len(missing)} node(s) use unsupported ops {', '.join(kinds)}:\n" + "\n".join(lines), stage="import"
        )


class ScheduleError(CompileError):
    """No schedule fits the target (typically: a tile does not fit in LDM)."""

    def __init__(self, message: str, *, op: str = "", node: str = ""):
        super().__init__(message, stage="schedule", op=op, node=node)


class LoweringError(CompileError):
    """A pass met IR it cannot lower."""

    def __init__(self, message: str, *, stage: str = "lower", op: str = ""):
        super().__init__(message, stage=stage, op=op)


class RuntimeFailure(CompileError):
    """Building or running the emitted code failed (C compiler, emulator check, crash)."""

    def __init__(self, message: str):
        super().__init__(message, stage="run")
