"""Sliding-window attributes shared by Conv and the pools: kernel, strides, dilations, pads, auto_pad, ceil_mode.

All output-size arithmetic lives here, so Conv, MaxPool and AveragePool agree with each other and with ONNX:
    out = floor_or_ceil((in + pad_begin + pad_end - ((k - 1) * d + 1)) / s) + 1
and with ceil_mode a last window that would start inside the end padding is dropped (as onnxruntime does).
SAME_* auto_pad with dilations is refused: onnxruntime refuses it for Conv and computes smaller outputs than the
ONNX reference for the pools, so there is nothing to agree with.

Also here: `window_map`, the affine map `o * stride + k * dilation` by which every windowed op (conv, pools)
reads its padded input, and `dtype_of` / `is_unsigned` (the ONNX element type of an input: MLIR integers are
signless).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlir import ir

from ..dtypes import input_dtype as dtype_of, input_is_unsigned as is_unsigned  # noqa: F401  (used as window.*)


@dataclass(frozen=True)
class Window:
    kernel: list[int]
    strides: list[int]
    dilations: list[int]
    pad_begin: list[int]
    pad_end: list[int]
    out: list[int]

    def effective_kernel(self, i: int) -> int:
        return (self.kernel[i] - 1) * self.dilations[i] + 1

    def padding(self, in_sizes: list[int]) -> tuple[list[int], list[int]]:
        """(low, high) padding that makes every window fall inside the padded input. The end padding is cut
        to what the last window reads, and grown when ceil_mode's last window hangs over the declared pads."""
        low = list(self.pad_begin)
        high = []
        for i, n in enumerate(in_sizes):
            needed = (self.out[i] - 1) * self.strides[i] + self.effective_kernel(i)
            high.append(max(0, needed - n - low[i]))
        return low, high


def ints(node, name: str, default: list[int], rank: int) -> list[int]:
    v = node.attr(name, None)
    if v is None:
        return list(default)
    v = [int(x) for x in v]
    if len(v) != rank:
        raise node.error(f"attribute {name}={v} should have {rank} values")
    return v


def resolve(node, in_sizes: list[int], kernel: list[int], *, ceil_mode: bool = False) -> Window:
    """Validate the window attributes of `node` over spatial input sizes `in_sizes` and compute output sizes."""
    r = len(in_sizes)
    strides = ints(node, "strides", [1] * r, r)
    dilations = ints(node, "dilations", [1] * r, r)
    pads = ints(node, "pads", [0] * (2 * r), 2 * r)
    if any(s < 1 for s in strides):
        raise node.error(f"strides {strides} must be positive")
    if any(d < 1 for d in dilations):
        raise node.error(f"dilations {dilations} must be positive")
    if any(k < 1 for k in kernel):
        raise node.error(f"kernel shape {kernel} must be positive")
    if any(p < 0 for p in pads):
        raise node.error(f"negative pads {pads} are not supported")
    auto_pad = node.attr("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER") and any(d != 1 for d in dilations):
        # The ONNX spec says out = ceil(in / stride); onnxruntime refuses this for Conv and pads by the
        # undilated kernel for pools (smaller outputs). Nothing to agree with: refuse.
        raise node.error(f"auto_pad={auto_pad} with dilations {dilations} is not supported")
    eff = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    begin, end, out = [], [], []
    for i, n in enumerate(in_sizes):
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            o = math.ceil(n / strides[i])
            total = max(0, (o - 1) * strides[i] + eff[i] - n)
            small, big = total // 2, total - total // 2
            pb, pe = (small, big) if auto_pad == "SAME_UPPER" else (big, small)
        elif auto_pad in ("NOTSET", "VALID"):
            pb, pe = (pads[i], pads[i + r]) if auto_pad == "NOTSET" else (0, 0)
            span = n + pb + pe - eff[i]
            if span < 0:
                raise node.error(f"the window ({eff[i]} wide, dilation included) is larger than the padded input "
                                 f"({n + pb + pe}) along spatial dim {i}")
            o = (-(-span // strides[i]) if ceil_mode else span // strides[i]) + 1
            if ceil_mode and (o - 1) * strides[i] >= n + pb:
                o -= 1
        else:
            raise node.error(f"auto_pad='{auto_pad}' is not supported (NOTSET, VALID, SAME_UPPER, SAME_LOWER)")
        begin.append(pb)
        end.append(pe)
        out.append(o)
    return Window(list(kernel), strides, dilations, begin, end, out)


# ----------------------------------------------------------------------------------------------- affine maps
def window_map(n_loops: int, lead: list[int], out_dims: list[int], k_dims: list[int], strides: list[int],
               dilations: list[int]) -> "ir.AffineMap":
    """How a sliding window reads its (padded) input inside a loop nest of `n_loops` dims: the leading input
    dims are the loop dims `lead`, spatial dim i is `o_i * stride_i + k_i * dilation_i` with o_i = d[out_dims[i]]
    and k_i = d[k_dims[i]]. Affine, so tiling an output loop slices the input with its halo."""
    from mlir import ir

    d = [ir.AffineDimExpr.get(i) for i in range(n_loops)]
    exprs = [d[i] for i in lead]
    for o, k, s, dl in zip(out_dims, k_dims, strides, dilations):
        exprs.append(d[o] * s + d[k] * dl)
    return ir.AffineMap.get(n_loops, 0, exprs)

