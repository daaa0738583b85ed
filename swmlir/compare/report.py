"""The result of a comparison as data: one Row per node output, one Cell per stage; its table and its JSON."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

MATCH = "match"
DIVERGE = "diverge"          # outside the tolerance while every input of the node matches here: a cause
INHERITED = "inherited"      # outside the tolerance, and so is one of the node's inputs at this stage
EXCEPTED = "excepted"        # compared, named by --excepts: never a divergence
FAILED = "failed"            # the stage did not run (Report.stage_errors says why)
MISSING = "missing"          # the stage ran but did not write this value (a bug of compare)
NOT_KEPT = "not kept"        # stage fused: an intermediate of the normal build (in a fused kernel or the arena)
FUSED = "fused"              # the graph passes removed the value: computed only as part of `fused_into`
DEAD = "dead"                # the graph passes removed the value: no graph output depends on it
INLINED = "inlined"          # a node of an If/Loop/Scan body (`fused_into`): compared as that node's outputs

_SHOWN = {MATCH: "match", DIVERGE: "DIVERGE", INHERITED: "diverge*", EXCEPTED: "excepted", FAILED: "n/a",
          MISSING: "missing", NOT_KEPT: "-"}


@dataclass
class Cell:
    status: str
    max_diff: float | None = None
    cosine: float | None = None
    mismatched: int = 0            # elements outside the tolerance
    note: str = ""                 # a shape or dtype that differs
    kernel: str = ""               # stages c and fused: the kernel whose result the value is


@dataclass
class Row:
    index: int                     # position in graph order (a node with two outputs has two rows)
    node: str
    op: str
    value: str                     # the output's name in the graph
    shape: list[int] | None = None
    dtype: str = ""
    kind: str = "kept"             # kept, constant (folded by the graph passes), fused, dead, inlined
    fused_into: str = ""
    where: str = ""                # inlined: the body (an If's branch, taken or not; a loop's body, unrolled)
    excepted: bool = False
    cells: dict[str, Cell] = field(default_factory=dict)   # stage -> Cell

    @property
    def compared(self) -> bool:
        return self.kind in ("kept", "constant")

    @property
    def diverges(self) -> bool:
        return any(c.status in (DIVERGE, INHERITED, MISSING) for c in self.cells.values())


@dataclass
class Report:
    model: str
    target: str
    stages: list[str]
    rtol: float
    atol: float
    rows: list[Row]
    stage_errors: dict[str, str] = field(default_factory=dict)   # stage -> why it did not run
    stage_seconds: dict[str, float] = field(default_factory=dict)
    inputs: str = ""               # where the inputs came from
    notes: list[str] = field(default_factory=list)   # findings printed under the table (the kernel at fault)

    # -- the verdict

    @property
    def stages_run(self) -> list[str]:
        return [s for s in self.stages if s not in self.stage_errors]

    def first_divergence(self) -> tuple[Row, str] | None:
        """The first diverging row in graph order, and the first stage (pipeline order) where it diverges."""
        for r in self.rows:
            for s in self.stages:
                c = r.cells.get(s)
                if c is not None and c.status in (DIVERGE, INHERITED, MISSING):
                    return r, s
        return None

    @property
    def ok(self) -> bool:
        return not self.stage_errors and self.first_divergence() is None

    def counts(self) -> tuple[int, int]:
        """(nodes compared, nodes whose values were compared somewhere and matched wherever they were)."""
        nodes: dict[str, bool] = {}
        for r in self.rows:
            if r.compared:
                seen = any(c.status in (MATCH, EXCEPTED) for c in r.cells.values())
                nodes[r.node] = nodes.get(r.node, True) and seen and not r.diverges
        return len(nodes), sum(nodes.values())

    def summary(self) -> str:
        n, m = self.counts()
        k = len(self.stages_run)
        head = f"{n} nodes compared at {k} stage{'s' if k != 1 else ''}, {m} match"
        first = self.first_divergence()
        if first is not None:
            row, stage = first
            kernel = row.cells[stage].kernel
            return f"{head}; first divergence: {row.node} ({row.op}) at stage {stage}" + \
                (f", kernel {kernel}" if kernel else "")
        if self.stage_errors:
            stage, why = next(iter(self.stage_errors.items()))
            return f"{head}; stage {stage} failed: {why}"
        return f"{head}; all match"

    # -- the table

    def table(self) -> str:
        """One line per node output in graph order, a column group per stage, and the closing line."""
        label = [r.node + (f":{r.value}" if _outputs(self.rows, r.node) > 1 else "") for r in self.rows]
        wn = min(40, max([4, *map(len, label)]))
        wo = min(24, max([2, *(len(r.op) for r in self.rows)]))
        shapes = [_shape(r.shape) if r.compared else "-" for r in self.rows]
        ws = min(20, max([5, *map(len, shapes)]))
        cell_w = 27
        head = f"{'#':>4}  {'op':<{wo}}  {'node':<{wn}}  {'shape':<{ws}}"
        out = [f"swmlir compare: {self.model} on {self.target}; rtol {self.rtol:g}, atol {self.atol:g} "
               f"(x max(1, max|ref|)); inputs: {self.inputs or 'given'}",
               (head + "".join(f" | {s:<{cell_w}}" for s in self.stages)).rstrip(),
               (" " * len(head) + "".join(f" | {'max|diff|':<9} {'cosine':<8} {'status':<8}"
                                          for _ in self.stages)).rstrip()]
        for r, name, shape in zip(self.rows, label, shapes):
            line = f"{r.index:>4}  {_cut(r.op, wo):<{wo}}  {_cut(name, wn):<{wn}}  {_cut(shape, ws):<{ws}}"
            if not r.compared:
                why = (f"fused into {r.fused_into} by the graph passes (not computed by itself)" if r.kind == FUSED
                       else f"inlined: in the {r.where}; compared as {r.fused_into}'s outputs" if r.kind == INLINED
                       else "removed by the graph passes: no graph output depends on it")
                out.append(f"{line} | {why}")
                continue
            for s in self.stages:
                c = r.cells.get(s) or Cell(FAILED)
                if c.status in (FAILED, MISSING, NOT_KEPT) or c.max_diff is None:
                    text = _SHOWN.get(c.status, c.status)
                else:
                    text = f"{_num(c.max_diff):<9} {_cos(c.cosine):<8} {_SHOWN.get(c.status, c.status)}"
                line += f" | {text:<{cell_w}}"
            notes = sorted({c.note for c in r.cells.values() if c.note})
            notes += [f"{s}: kernel {c.kernel}" for s, c in r.cells.items() if c.kernel and c.status == DIVERGE]
            out.append(line.rstrip() + (f"  ({'; '.join(notes)})" if notes else ""))
        legend = "DIVERGE: outside the tolerance while the node's inputs match (a cause); diverge*: an input " \
                 "diverges too"
        if "fused" in self.stages:
            legend += "; stage fused: the model as compiled normally, only its outputs kept (-: not kept)"
        if any(r.kind == "constant" for r in self.rows):
            legend += "; constants: values the graph passes folded, compared as each stage returns them"
        out.append(legend)
        fused = sum(r.kind == FUSED for r in self.rows)
        dead = sum(r.kind == DEAD for r in self.rows)
        inlined = sum(r.kind == INLINED for r in self.rows)
        if fused or dead or inlined:
            out.append(f"not compared: {fused} value(s) fused into later nodes, {dead} dead"
                       + (f", {inlined} inside If/Loop/Scan bodies (compared as those nodes' outputs)"
                          if inlined else "") + " (see their rows)")
        for s, why in self.stage_errors.items():
            out.append(f"stage {s} failed: {why}")
        out += self.notes
        if self.stage_seconds:
            out.append("time: " + ", ".join(f"{s} {t:.1f} s" for s, t in self.stage_seconds.items()))
        out.append(self.summary())
        return "\n".join(out)

    # -- JSON

    def to_json(self) -> str:
        return json.dumps(_finite(asdict(self)), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Report":
        d = _unfinite(json.loads(text))
        rows = []
        for r in d.pop("rows"):
            cells = {s: Cell(**c) for s, c in r.pop("cells").items()}
            rows.append(Row(**r, cells=cells))
        return cls(**d, rows=rows)


def _outputs(rows: list[Row], node: str) -> int:
    return sum(r.node == node for r in rows)


def _shape(shape) -> str:
    if shape is None:
        return "?"
    return "x".join(map(str, shape)) if shape else "scalar"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else "..." + text[len(text) - width + 3:]


def _num(x: float) -> str:
    return "inf" if math.isinf(x) else ("nan" if math.isnan(x) else f"{x:.3g}")


def _cos(x: float | None) -> str:
    return "" if x is None else f"{x:.6f}"


def _finite(x):
    """JSON has no inf/nan: they are written as the strings "inf", "-inf", "nan"."""
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


_SPECIAL = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _unfinite(x, key: str = ""):
    if isinstance(x, str) and key in ("max_diff", "cosine") and x in _SPECIAL:
        return _SPECIAL[x]
    if isinstance(x, dict):
        return {k: _unfinite(v, k) for k, v in x.items()}
    if isinstance(x, list):
        return [_unfinite(v, key) for v in x]
    return x
