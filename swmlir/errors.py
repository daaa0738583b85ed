"""One exception family for everything a user can get wrong; each names the stage and the offending op."""
from __future__ import annotations


class CompileError(Exception):
    """A model could not be compiled. `stage` is the pipeline stage, `op` the ONNX op or MLIR op at fault.

    `location`: where in the IR (an mlir.ir.Location, or an Operation/OpView whose location is taken); a pass
    that raises the error gets it reported as an error diagnostic at that location (default: the location of
    the op the pass runs on). `pass_name` and `where` are filled in by the pass pipeline when the error
    comes out of a pass (swmlir.pass_pipeline)."""

    def __init__(self, message: str, *, stage: str = "", op: str = "", node: str = "", location=None):
        self.stage, self.op, self.node, self.reason = stage, op, node, message
        self.location = _as_location(location)
        self.pass_name, self.where = "", ""
        where = " ".join(p for p in (f"[{stage}]" if stage else "", op, f"(node '{node}')" if node else "") if p)
        super().__init__(f"{where}: {message}" if where else message)

    @property
    def diagnostic(self) -> str:
        """The message without the pass and location prefix (what the error diagnostic says)."""
        return self._diagnostic if hasattr(self, "_diagnostic") else str(self)

    def in_pass(self, pass_name: str, where: str = "") -> "CompileError":
        """Prefix the message with the pass it came out of and its IR location (`file:line:col`); returns self.
        The type and the attributes (stage, op, node, reason) are kept."""
        if not self.pass_name:
            self._diagnostic = str(self)
            self.pass_name, self.where = pass_name, where
            self.args = (f"pass {pass_name} failed{' at ' + where if where else ''}: {self._diagnostic}",)
        return self


def _as_location(x):
    if x is None:
        return None
    if hasattr(x, "location") and not hasattr(x, "emit_error"):   # Operation / OpView
        return x.location
    return x


class ImportError_(CompileError):
    """The ONNX model is malformed or uses an attribute value we refuse to guess about."""

    def __init__(self, message: str, *, op: str = "", node: str = ""):
        super().__init__(message, stage="import", op=op, node=node)


class ConstantInputRequired(ImportError_):
    """A converter needs the value of an input at compile time (a Reshape's shape, a Slice's starts...) and the
    input is computed at run time. `inputs` names the values it needs constant (ONNX value names; empty when the
    converter cannot name one). The ONNX backend catches this type to compile the model again with those graph
    inputs frozen to their run-time values (swmlir.backend)."""

    def __init__(self, message: str, *, inputs=(), op: str = "", node: str = ""):
        self.inputs = tuple(n for n in inputs if n)
        super().__init__(message, op=op, node=node)


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

    def __init__(self, message: str, *, op: str = "", node: str = "", location=None):
        super().__init__(message, stage="schedule", op=op, node=node, location=location)


class LoweringError(CompileError):
    """A pass met IR it cannot lower."""

    def __init__(self, message: str, *, stage: str = "lower", op: str = "", location=None):
        super().__init__(message, stage=stage, op=op, location=location)


class RuntimeFailure(CompileError):
    """Building or running the emitted code failed (C compiler, emulator check, crash)."""

    def __init__(self, message: str):
        super().__init__(message, stage="run")
