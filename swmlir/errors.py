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


class Problem:
    """One thing wrong with a model: a message, and the op type and node name it is about (when it is)."""

    __slots__ = ("message", "op", "node")

    def __init__(self, message: str, op: str = "", node: str = ""):
        self.message, self.op, self.node = message, op, node

    def __eq__(self, other):
        return isinstance(other, Problem) and \
            (self.message, self.op, self.node) == (other.message, other.op, other.node)

    def __hash__(self):
        return hash((self.message, self.op, self.node))

    def __repr__(self):
        return f"Problem({self.message!r}, op={self.op!r}, node={self.node!r})"

    def __str__(self) -> str:
        where = " ".join(p for p in (self.op, f"(node '{self.node}')" if self.node else "") if p)
        return f"{where}: {self.message}" if where else self.message


class InvalidModelError(ImportError_):
    """The model is not valid ONNX or exceeds a limit (frontend.onnx.validate). Every problem found is listed
    (`problems`), at once, as UnsupportedOpsError lists ops; one problem reads like any ImportError_."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        if len(self.problems) == 1:
            p = self.problems[0]
            super().__init__(p.message, op=p.op, node=p.node)
        else:
            super().__init__(f"{len(self.problems)} problems in the model:\n"
                             + "\n".join(f"  {p}" for p in self.problems))


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
