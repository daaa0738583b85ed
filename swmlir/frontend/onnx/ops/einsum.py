"""Einsum as one `linalg.generic`: a loop per distinct label, the output's labels parallel (in output order),
the summed labels reductions; each operand is read through the projection of its labels.

Covered: any number of operands, explicit and implicit outputs, transposes, matmul / batch matmul, outer
products, inner products, sums over labels, ellipsis with numpy broadcasting (a size-1 ellipsis dim read at
index 0), and diagonals (a label repeated in one operand reads it with the same loop twice: still affine, no
gather). Refused with a reason: a label repeated in the output, a label of the output missing from the inputs,
labels whose sizes differ, operand/term count or rank mismatches.
"""
from __future__ import annotations

from mlir import ir
from mlir.dialects import arith

from .. import builders as b
from ..dtypes import is_float, is_int
from ..registry import converter


def _split_term(node, term: str) -> tuple[list[str], bool, int]:
    """(labels before and after the ellipsis with '...' kept as one item, has ellipsis, letter count)."""
    if term.count("...") > 1:
        raise node.error(f"term '{term}' has more than one ellipsis")
    out = []
    rest = term.replace("...", "\0")
    for ch in rest:
        if ch == "\0":
            out.append("...")
        elif ch.isalpha() and ch.isascii():
            out.append(ch)
        else:
            raise node.error(f"invalid character {ch!r} in einsum term '{term}'")
    return out, "..." in out, sum(1 for c in out if c != "...")


def parse_equation(node, equation: str, shapes: list[tuple[int, ...]]):
    """(labelled input terms, output labels, label sizes). Ellipsis dims become labels '.0', '.1', ... (the
    leading ellipsis dim first), right-aligned across operands as in numpy broadcasting."""
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise node.error(f"equation '{equation}' has more than one '->'")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise node.error(f"equation '{equation}' has {len(terms)} input term(s) for {len(shapes)} input(s)")
    n_ell = 0
    parsed = []
    for term, shape in zip(terms, shapes):
        labels, has_ell, n_letters = _split_term(node, term)
        if has_ell:
            k = len(shape) - n_letters
            if k < 0:
                raise node.error(f"term '{term}' has {n_letters} labels but its input has rank {len(shape)}")
            n_ell = max(n_ell, k)
        elif n_letters != len(shape):
            raise node.error(f"term '{term}' has {n_letters} labels but its input has rank {len(shape)}")
        parsed.append((labels, has_ell))
    ell = [f".{j}" for j in range(n_ell)]
    sizes: dict[str, int] = {}
    inputs = []
    for (labels, has_ell), shape in zip(parsed, shapes):
        k = len(shape) - sum(1 for c in labels if c != "...")
        full = []
        for c in labels:
            full += ell[n_ell - k:] if c == "..." else [c]
        for lab, n in zip(full, shape):
            known = sizes.get(lab)
            if lab.startswith(".") and known is not None and (known == 1 or n == 1):
                sizes[lab] = max(known, n)
            elif known is not None and known != n:
                raise node.error(f"label '{lab}' has size {known} in one operand and {n} in another")
            else:
                sizes[lab] = n
        inputs.append(full)
    if arrow:
        out_labels, _, _ = _split_term(node, rhs)
        output = []
        for c in out_labels:
            output += ell if c == "..." else [c]
        seen = set()
        for c in output:
            if c in seen:
                raise node.error(f"label '{c}' appears twice in the output of '{equation}'")
            if c not in sizes:
                raise node.error(f"output label '{c}' of '{equation}' is not in any input term")
            seen.add(c)
    else:
        counts: dict[str, int] = {}
        for full in inputs:
            for c in full:
                counts[c] = counts.get(c, 0) + 1
        output = ell + sorted(c for c, n in counts.items() if n == 1 and not c.startswith("."))
    return inputs, output, sizes


def _product(mul, vals):
    p = vals[0]
    for v in vals[1:]:
        p = mul(p, v)
    return p


@converter("Einsum", since=(12, 28))  # 28: bfloat16 (refused by the importer's types)
def einsum(ctx, node):
    equation = node.attr("equation", None)
    if not isinstance(equation, str):
        raise node.error("attribute equation is required")
    xs = [node.require_input(i, f"Inputs[{i}]") for i in range(len(node.input_names))]
    if not xs:
        raise node.error("Einsum needs at least one input")
    elem = b.elem_of(xs[0])
    if not (is_float(elem) or is_int(elem)):
        raise node.error(f"element type {elem} is not supported (float and integer tensors are)")
    for i, x in enumerate(xs):
        if b.elem_of(x) != elem:
            raise node.error(f"input {i} has element type {b.elem_of(x)}, input 0 has {elem}")
    shapes = [b.shape_of(x) for x in xs]
    inputs, output, sizes = parse_equation(node, equation, shapes)
    if len(xs) == 1 and inputs[0] == output:
        return xs[0]
    mul = arith.mulf if is_float(elem) else arith.muli
    add = arith.addf if is_float(elem) else arith.addi
    summed = []
    for full in inputs:
        for c in full:
            if c not in output and c not in summed:
                summed.append(c)
    loops = output + summed
    pos = {c: i for i, c in enumerate(loops)}
    n_loops = len(loops)
    d = b.dims(n_loops)
    maps = []
    for full, shape in zip(inputs, shapes):
        exprs = [ir.AffineConstantExpr.get(0) if (n == 1 and sizes[c] != 1) else d[pos[c]]
                 for c, n in zip(full, shape)]
        maps.append(ir.AffineMap.get(n_loops, 0, exprs))
    maps.append(b.projection_map(n_loops, list(range(len(output)))))
    kinds = ["parallel"] * len(output) + ["reduction"] * len(summed)
    out_shape = [sizes[c] for c in output]
    if summed:
        init = b.fill(out_shape, elem, 0)
        return b.generic(xs, maps, init, lambda *a: add(a[-1], _product(mul, a[:-1])), kinds)
    return b.generic(xs, maps, b.empty(out_shape, elem), lambda *a: _product(mul, a[:-1]), kinds)
