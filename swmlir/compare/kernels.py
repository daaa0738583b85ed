"""Which kernel of a build computes which value: what names the kernel at fault at stages c and fused.

Every kernel of a build carries its fusion group, the labels of the ONNX nodes it computes joined by '+'
(`KernelStats.node`, the `swmlir.node` of the outlined kernel), in launch order. A value is computed by the last
kernel whose group holds its node (a node lowered to several kernels, a Softmax's max and its normalization,
finishes in the last). A kernel's results are the values of its nodes that a node outside its group reads, or
that are graph outputs; its inputs are the values its nodes read that another kernel (or the graph input) gives.

At stage fused only the model's outputs can be read. When one diverges, a second build keeps the result of every
kernel of the normal build as a graph output: a kernel's result is its group's root, which is fused into nothing
(else it would be a member of a later group), so an extra reader changes no group. The kernel list is checked to
be the same; then the first kernel whose result diverges while its inputs match is the one at fault.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

FILE = "kernels.json"
# nodes that are no computation of their own when no kernel names them: views of their input, or folded into the
# maps of the kernels that read them (a Transpose read by a contraction)
VIEWS = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Transpose", "Expand")


@dataclass
class Kernel:
    name: str
    group: str                     # the node labels joined by '+', as the compiler names the group
    nodes: list[str] = field(default_factory=list)    # the labels, parsed (empty: not parsed)
    results: list[str] = field(default_factory=list)  # values it computes that leave it
    inputs: list[str] = field(default_factory=list)   # values it reads that others compute or the graph gives
    unsure: list[str] = field(default_factory=list)   # results maybe computed by an earlier kernel (an If's)


def split_group(group: str, labels: set[str], containers: set[str] = frozenset()) -> list[str]:
    """'a+b+c' -> the labels it joins (labels may hold '+' themselves); [] when it is no join of `labels`. A
    node the importer inlined from an If/Loop/Scan body is named `<container>/<body>/<node>`: it stands for
    the container's label (one of `containers`)."""
    parts = group.split("+")
    n = len(parts)

    def label_of(piece: str) -> str | None:
        if piece in labels:
            return piece
        hits = [c for c in containers if piece.startswith(c + "/")]
        return max(hits, key=len) if hits else None

    best: list[list[str] | None] = [None] * (n + 1)
    best[n] = []
    for i in range(n - 1, -1, -1):
        for j in range(n, i, -1):          # the longest label first
            lb = label_of("+".join(parts[i:j]))
            if lb is not None and best[j] is not None:
                best[i] = [lb, *best[j]]
                break
    return best[0] or []


def attribute(graph, kernels: list[tuple[str, str]], outputs) -> list[Kernel]:
    """The kernels (name, group) of a build of `graph` (an onnx GraphProto: the optimized graph) whose graph
    outputs are `outputs` (names), with the values each computes and reads. A node in no kernel that is a view
    (VIEWS: a Reshape, a Flatten) is seen through: a kernel reading its output reads what it views; any other
    node in no kernel was folded into the kernel that computes its input."""
    from .model import CONTROL_FLOW, node_inputs, node_label
    nodes = [(node_label(n, i), n) for i, n in enumerate(graph.node)]
    labels = {lb for lb, _ in nodes}
    containers = {lb for lb, n in nodes if n.op_type in CONTROL_FLOW}
    label_by_id = {id(n): lb for lb, n in nodes}
    out = [Kernel(name, group, split_group(group, labels, containers)) for name, group in kernels]
    last: dict[str, int] = {}          # node label -> the last kernel that computes part of it
    spans: dict[str, set[int]] = {}
    for k, kern in enumerate(out):
        for lb in kern.nodes:
            last[lb] = k
            spans.setdefault(lb, set()).add(k)
    producer: dict[str, int] = {}      # value -> the kernel that computes it
    made_by: dict[str, object] = {}    # value -> its node
    for lb, n in nodes:
        if lb not in last and n.op_type not in VIEWS:
            # in no kernel's group and no view: folded into the kernel of its input (a residual Add that became
            # a contraction's initial value)
            ks = [producer[x] for x in node_inputs(n) if x in producer]
            if ks:
                last[lb] = max(ks)
                spans.setdefault(lb, set()).add(max(ks))
        for o in n.output:
            if o:
                made_by[o] = n
                if lb in last:
                    producer[o] = last[lb]
    leaves = set(outputs)              # values read outside the kernel that computes them
    for lb, n in nodes:
        k = last.get(lb)
        for x in node_inputs(n):
            if x in producer and producer[x] != k:
                leaves.add(x)

    def seen_through(v: str, seen: set) -> set[str]:
        """The kernel results (or graph inputs) a value is, through the views in no kernel."""
        if v in producer or v not in made_by:
            return {v}
        if v in seen:
            return set()
        seen.add(v)
        ins = node_inputs(made_by[v])
        return set().union(*(seen_through(x, seen) for x in ins)) if ins else set()

    graph_inputs = {i.name for i in graph.input}
    for v, k in producer.items():
        if v in leaves:
            out[k].results.append(v)
            lb = label_by_id[id(made_by[v])]
            if lb in containers and len(spans[lb]) > 1:
                out[k].unsure.append(v)    # an If/Loop/Scan over several kernels: which one makes v is unknown
    for lb, n in nodes:
        k = last.get(lb)
        if k is None:
            continue
        for x in node_inputs(n):
            if producer.get(x) == k:
                continue
            for v in seen_through(x, set()):
                if (v in producer or v in graph_inputs) and v not in out[k].inputs:
                    out[k].inputs.append(v)
    return out


def value_kernels(kernels: list[Kernel]) -> dict[str, str]:
    """value -> the name of the kernel whose result it is."""
    out: dict[str, str] = {}
    for k in kernels:
        for v in k.results:
            if v not in k.unsure:
                out[v] = k.name
    return out


def same_kernels(normal: list[tuple[str, str]], built: list[tuple[str, str]]) -> bool:
    """`built` has the groups of `normal`, in order, and nothing else but copy kernels (a kept result that is a
    slice of its kernel's buffer, a conv's output computed a whole vector wide, is copied out at the end)."""
    rest = [g for _, g in built]
    i = 0
    for _, g in normal:
        while i < len(rest) and rest[i] != g and rest[i] == "copy":
            i += 1
        if i == len(rest) or rest[i] != g:
            return False
        i += 1
    return all(g == "copy" for g in rest[i:])


def save(folder: str, kernels: list[tuple[str, str]]) -> None:
    with open(os.path.join(folder, FILE), "w") as f:
        json.dump([list(k) for k in kernels], f)


def load(folder: str) -> list[tuple[str, str]] | None:
    path = os.path.join(folder, FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return [tuple(k) for k in json.load(f)]


def of_build(m) -> list[tuple[str, str]]:
    """(kernel name, group) of a CompiledModel, in launch order."""
    return [(k.name, k.node) for k in m.kernel_stats]
