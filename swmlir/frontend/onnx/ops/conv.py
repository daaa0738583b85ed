"""Conv and ConvTranspose in 1, 2 and 3 (or more) spatial dims, with groups, on one convolution generic.

Conv: the input is padded explicitly (tensor.pad), then one accumulation into a zero-filled init, then a bias
generic. With group == 1 and float operands the accumulation is the named op (`linalg.conv_1d_ncw_fcw`,
`conv_2d_nchw_fchw`, `conv_3d_ncdhw_fcdhw`); otherwise it is a `linalg.generic` whose loops are
    (n, [g,] f, o_1..o_r, c, k_1..k_r)      (the g loop only when group > 1)
reading X [N, G, C/G, S..] at (n, g, c, o_i * s_i + k_i * d_i) and W [G, F/G, C/G, K..] at (g, f, c, k_i), and
writing [N, G, F/G, O..], which is collapsed back to [N, F, O..]. Depthwise (group == C) is the same op with a
channel loop of size 1. Every map is affine and the output map is a plain projection, so the schedule tiles
any output loop over the CPEs and reads the input tile with its halo.

A 2-D Conv with a constant kernel whose width stride s is over 1 reads its input every s-th column, which no
vector load can. It is computed on the input split into column phases (strided_conv_2d): X'[n, c, h, b, w'] =
Xp[n, c, h, w' * s + b] for the b < min(s, KW) phases used, and the kernel split the same way, W'[f, c, kh, q, b] =
W[f, c, kh, q * s + b] (zero where q * s + b >= KW). Then out[n, f, oh, ow] = sum over (c, kh, q, b) of
X'[n, c, oh * s_h + kh * d_h, b, ow + q] * W'[f, c, kh, q, b]: unit stride along ow, so the micro-kernel
vectorizes it. The zero taps cost ceil(KW/s) * s / KW more multiply-adds (4/3 for 3x3, 8/7 for 7x7); the
generic carries `swmlir.useful_fraction` so that flop counts stay those of the Conv.

ConvTranspose is the convolution, with stride 1 and the same dilations, of the zero-inserted input (stride - 1
zeros after each element, written by a generic that selects between the element and 0 with a constant
mask, so no gather) padded by (K-1)*d - pad on each side, with the kernel transposed to [G, F/G, C/G, K..] and
flipped. A constant kernel is flipped at import time; a run-time kernel is flipped by a generic that sums
`select(J[k, k'], W[.., k], 0)` over k with a constant anti-diagonal J: the flip as plain maps, without the
negative coefficients (K-1-k) that tiling would slice wrongly.
"""
from __future__ import annotations

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg

from .. import builders as b
from ..dtypes import is_float
from ..registry import converter
from ..movement_util import slice_of
from . import window

_NAMED_CONV = {1: "conv_1d_ncw_fcw", 2: "conv_2d_nchw_fchw", 3: "conv_3d_ncdhw_fcdhw"}


def _mul_add(x, w, acc):
    if is_float(x.type):
        return arith.addf(acc, arith.mulf(x, w))
    return arith.addi(acc, arith.muli(x, w))


def conv_nd(xp: ir.Value, w: ir.Value, strides: list[int], dilations: list[int], group: int,
            out_sizes: list[int], *, init_value=0.0) -> ir.Value:
    """Convolution of an already padded xp [N, C, S..] with w [F, C/group, K..] into [N, F, O..] (no bias).
    Both operands and the result share one element type (integer operands: a wrapping integer sum)."""
    sx, sw = b.shape_of(xp), b.shape_of(w)
    elem = b.elem_of(xp)
    r = len(sx) - 2
    n = sx[0]
    f, cg = sw[0], sw[1]
    ks = list(sw[2:])
    if group == 1 and is_float(elem) and r in _NAMED_CONV:
        init = b.fill([n, f, *out_sizes], elem, init_value)
        return getattr(linalg, _NAMED_CONV[r])(xp, w, outs=[init], strides=strides, dilations=dilations)
    fg = f // group
    grouped = group > 1
    # loop numbering
    lead = [0, 1] if grouped else [0]          # n, (g)
    f_d = len(lead)
    o_d = [f_d + 1 + i for i in range(r)]
    c_d = f_d + 1 + r
    k_d = [c_d + 1 + i for i in range(r)]
    n_loops = c_d + 1 + r
    if grouped:
        xg = b.reshape(xp, [n, group, cg, *sx[2:]])
        wg = b.reshape(w, [group, fg, cg, *ks])
        out_shape = [n, group, fg, *out_sizes]
    else:
        xg, wg = xp, w
        out_shape = [n, f, *out_sizes]
    d = b.dims(n_loops)
    x_map = window.window_map(n_loops, lead + [c_d], o_d, k_d, strides, dilations)
    w_map = ir.AffineMap.get(n_loops, 0, [d[i] for i in lead[1:] + [f_d, c_d] + k_d])
    o_map = ir.AffineMap.get(n_loops, 0, [d[i] for i in lead + [f_d] + o_d])
    kinds = ["parallel"] * (c_d) + ["reduction"] * (1 + r)
    init = b.fill(out_shape, elem, init_value)
    y = b.generic([xg, wg], [x_map, w_map, o_map], init, _mul_add, kinds)
    return b.reshape(y, [n, f, *out_sizes]) if grouped else y


USEFUL_FRACTION_ATTR = "swmlir.useful_fraction"


def strided_conv_2d(xp: ir.Value, wc: np.ndarray, strides: list[int], dilations: list[int],
                    out_sizes: list[int]) -> ir.Value:
    """Conv of a padded xp [N, C, Hp, Wp] with the constant kernel wc [F, C, KH, KW] and a width stride over 1
    (dilation 1 along the width), on column phases (see the module docstring)."""
    n, c, hp, wp = b.shape_of(xp)
    f, _, kh, kw = wc.shape
    sw = strides[1]
    phases, taps = min(sw, kw), -(-kw // sw)
    oh, ow = out_sizes
    wq = ow + taps - 1                                   # columns of each phase the taps read
    need = (wq - 1) * sw + phases                        # padded columns the phases read
    if need > wp:
        xp = b.pad(xp, [0, 0, 0, 0], [0, 0, 0, need - wp], 0.0)
    elem = b.elem_of(xp)
    d = b.dims(5)
    split_map = ir.AffineMap.get(5, 0, [d[0], d[1], d[2], d[4] * sw + d[3]])
    xs = b.generic([xp], [split_map, b.identity_map(5)], b.empty([n, c, hp, phases, wq], elem), lambda v, _: v)
    wk = np.zeros((f, c, kh, taps, phases), dtype=wc.dtype)
    for q in range(taps):
        for ph in range(phases):
            if q * sw + ph < kw:
                wk[:, :, :, q, ph] = wc[:, :, :, q * sw + ph]
    w = b.constant(wk, "w_phases")
    # loops (n, f, oh, ow, c, kh, q, b)
    d = b.dims(8)
    x_map = ir.AffineMap.get(8, 0, [d[0], d[4], d[2] * strides[0] + d[5] * dilations[0], d[7], d[3] + d[6]])
    w_map = ir.AffineMap.get(8, 0, [d[1], d[4], d[5], d[6], d[7]])
    o_map = ir.AffineMap.get(8, 0, [d[0], d[1], d[2], d[3]])
    init = b.fill([n, f, oh, ow], elem, 0.0)
    y = b.generic([xs, w], [x_map, w_map, o_map], init, _mul_add, ["parallel"] * 4 + ["reduction"] * 4)
    y.owner.attributes[USEFUL_FRACTION_ATTR] = ir.FloatAttr.get_f64(kw / (taps * phases))
    return y


def add_channel_bias(node, y: ir.Value, bias: ir.Value | None) -> ir.Value:
    """y [N, F, ...] + bias [F] broadcast over the other dims."""
    if bias is None:
        return y
    sy, elem = b.shape_of(y), b.elem_of(y)
    f = sy[1]
    if b.shape_of(bias) != (f,) or b.elem_of(bias) != elem:
        raise node.error(f"B must be a 1-D tensor of {f} {elem}, got {bias.type}")
    r = len(sy)
    maps = [b.identity_map(r), b.projection_map(r, [1]), b.identity_map(r)]
    add = arith.addf if is_float(elem) else arith.addi
    return b.generic([y, bias], maps, b.empty(sy, elem), lambda v, c_, _: add(v, c_))


def check_conv_operands(node, x, w, *, transposed: bool = False, require_float: bool = True):
    """Shapes and group of Conv-like nodes: (group, spatial rank). W is [F, C/G, K..] (Conv) or
    [C, F/G, K..] (ConvTranspose)."""
    if require_float:
        node.require_float(x, "X")
        if b.elem_of(w) != b.elem_of(x):
            raise node.error(f"W has element type {b.elem_of(w)}, X has {b.elem_of(x)}")
    sx, sw = b.shape_of(x), b.shape_of(w)
    if len(sx) < 3:
        raise node.error(f"X must be (N, C, spatial...) with at least one spatial dim, got shape {list(sx)}")
    if len(sw) != len(sx):
        raise node.error(f"W must have the rank of X ({len(sx)}), got shape {list(sw)}")
    group = int(node.attr("group", 1))
    c = sx[1]
    if group < 1 or c % group:
        raise node.error(f"group={group} does not divide the {c} input channels")
    if transposed:
        if sw[0] != c:
            raise node.error(f"W has {sw[0]} input channels (dim 0), X has {c}")
    else:
        if sw[1] * group != c:
            raise node.error(f"W has {sw[1]} input channels per group, X has {c} channels in {group} group(s)")
        if sw[0] % group:
            raise node.error(f"group={group} does not divide the {sw[0]} output channels of W")
    ks = node.attr("kernel_shape", None)
    if ks is not None and list(ks) != list(sw[2:]):
        raise node.error(f"kernel_shape {list(ks)} does not match W's spatial shape {list(sw[2:])}")
    return group, len(sx) - 2


@converter("Conv", since=(7, 11, 22))
def conv(ctx, node):
    x, w = node.require_input(0, "X"), node.require_input(1, "W")
    group, _ = check_conv_operands(node, x, w)
    sx, sw = b.shape_of(x), b.shape_of(w)
    win = window.resolve(node, list(sx[2:]), list(sw[2:]))
    low, high = win.padding(list(sx[2:]))
    plain_2d = len(sx) == 4 and group == 1 and is_float(b.elem_of(x))
    out = list(win.out)
    if plain_2d:   # a width of whole vectors: extra output columns on extra zero input, sliced off
        out[-1] = padded_width(out[-1])
        high = high[:-1] + [high[-1] + (out[-1] - win.out[-1]) * win.strides[-1]]
    xp = b.pad(x, [0, 0] + low, [0, 0] + high, 0.0)
    wc = node.constant(1)
    if plain_2d and wc is not None and win.strides[1] > 1 and win.dilations[1] == 1:
        y = strided_conv_2d(xp, wc, win.strides, win.dilations, out)
    else:
        y = conv_nd(xp, w, win.strides, win.dilations, group, out)
    if out != win.out:
        _scale_useful(y, win.out[-1] / out[-1])
        y = slice_of(y, [0, 0, 0, 0], [*b.shape_of(y)[:2], *win.out])
    return add_channel_bias(node, y, node.input(2))


VECTOR_MULTIPLE = 4


def padded_width(ow: int) -> int:
    """The output width a 2-D Conv computes: a multiple of SW26010's 4-float vector from 3 columns on. The
    micro-kernel vectorizes along the width, and a scalar tail (7 = 4 + 3 columns in ResNet's last stage, 14 =
    12 + 2) costs several times the vector columns; an eighth more multiply-adds on zeros costs far less."""
    if ow < 3 or ow % VECTOR_MULTIPLE == 0:
        return ow
    return -(-ow // VECTOR_MULTIPLE) * VECTOR_MULTIPLE


def _scale_useful(y: ir.Value, fraction: float) -> None:
    op = y.owner
    old = ir.FloatAttr(op.attributes[USEFUL_FRACTION_ATTR]).value if USEFUL_FRACTION_ATTR in op.attributes else 1.0
    op.attributes[USEFUL_FRACTION_ATTR] = ir.FloatAttr.get_f64(old * fraction)


# ----------------------------------------------------------------------------------------------- ConvTranspose
def transpose_window(node, in_sizes: list[int], kernel: list[int]):
    """(strides, dilations, pad_begin, pad_end, out sizes) of a ConvTranspose, as onnxruntime computes them:
    an `output_shape` (or SAME_*, whose output is in * stride) decides the pads, SAME_UPPER putting the smaller
    half first and everything else the larger (explicit pads are then ignored); an output larger than the full
    result is zero-extended at the end, by less than one stride (a larger output_shape is inconsistent with the
    input, as onnxruntime says). Otherwise out = s * (in - 1) + output_padding + (k - 1) * d + 1 - pads."""
    r = len(in_sizes)
    strides = window.ints(node, "strides", [1] * r, r)
    dilations = window.ints(node, "dilations", [1] * r, r)
    out_pad = window.ints(node, "output_padding", [0] * r, r)
    pads = window.ints(node, "pads", [0] * (2 * r), 2 * r)
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations):
        raise node.error(f"strides {strides} and dilations {dilations} must be positive")
    if any(p < 0 for p in out_pad):
        raise node.error(f"output_padding {out_pad} must not be negative")
    if any(p < 0 for p in pads):
        raise node.error(f"negative pads {pads} are not supported")
    auto_pad = node.attr("auto_pad", "NOTSET")
    if auto_pad not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise node.error(f"auto_pad='{auto_pad}' is not supported (NOTSET, VALID, SAME_UPPER, SAME_LOWER)")
    out_shape = node.attr("output_shape", None)
    if out_shape is not None:
        out_shape = [int(v) for v in out_shape]
        if len(out_shape) == r + 2:
            out_shape = out_shape[2:]
        if len(out_shape) != r or any(v < 1 for v in out_shape):
            raise node.error(f"output_shape {out_shape} should have {r} positive values")
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        out_shape = [n * s for n, s in zip(in_sizes, strides)]
    full = [s * (n - 1) + op + (k - 1) * d + 1 for n, s, op, k, d in zip(in_sizes, strides, out_pad, kernel, dilations)]
    if out_shape is not None:
        begin, end = [], []
        for i in range(r):
            total = full[i] - out_shape[i]
            if -total >= strides[i]:
                raise node.error(f"output_shape {out_shape} is inconsistent with the input: along spatial dim {i} "
                                 f"the full output has {full[i]} elements, and {out_shape[i]} would need a larger "
                                 f"input (at most {full[i] + strides[i] - 1})")
            t = max(0, total)
            pb = t // 2 if auto_pad == "SAME_UPPER" else t - t // 2
            begin.append(pb)
            end.append(t - pb + min(0, total))
        out = out_shape
    else:
        if auto_pad == "VALID":
            pads = [0] * (2 * r)
        begin, end = pads[:r], pads[r:]
        out = [full[i] - begin[i] - end[i] for i in range(r)]
        if any(o < 1 for o in out):
            raise node.error(f"pads {pads} leave no output (full output {full})")
    return strides, dilations, begin, end, out


def _all_set(masks) -> ir.Value:
    """i1: every i8 mask element is nonzero. (Masks are i8, not i1: the upstream LLVM lowering of the reference
    JIT cannot load i1 memrefs.)"""
    keep = None
    for m in masks:
        bit = arith.cmpi(arith.CmpIPredicate.ne, m, b.scalar(m.type, 0))
        keep = bit if keep is None else arith.andi(keep, bit)
    return keep


def _zero_insert(x: ir.Value, strides: list[int]) -> ir.Value:
    """[N, C, I_1, .., I_r] -> [N, C, I_1 * s_1, .., I_r * s_r]: each element followed by s - 1 zeros. One
    generic over [N, C, I_1, s_1, .., I_r, s_r] selects x or 0 by constant masks [s_i] (1 at 0, else 0)."""
    sx, elem = b.shape_of(x), b.elem_of(x)
    r = len(sx) - 2
    if all(s == 1 for s in strides):
        return x
    n_loops = 2 + 2 * r
    d = b.dims(n_loops)
    i_d = [2 + 2 * i for i in range(r)]
    r_d = [3 + 2 * i for i in range(r)]
    masked = [i for i in range(r) if strides[i] > 1]
    inputs = [x]
    maps = [ir.AffineMap.get(n_loops, 0, [d[0], d[1]] + [d[i] for i in i_d])]
    for i in masked:
        m = np.zeros(strides[i], dtype=np.int8)
        m[0] = 1
        inputs.append(b.constant(m, f"zero_insert_mask{i}"))
        maps.append(ir.AffineMap.get(n_loops, 0, [d[r_d[i]]]))
    maps.append(b.identity_map(n_loops))
    shape = [sx[0], sx[1]]
    for i in range(r):
        shape += [sx[2 + i], strides[i]]

    def body(v, *rest):
        return arith.select(_all_set(rest[:-1]), v, b.scalar(elem, 0))

    z = b.generic(inputs, maps, b.empty(shape, elem), body)
    return b.reshape(z, [sx[0], sx[1]] + [sx[2 + i] * strides[i] for i in range(r)])


def _slice_and_pad(z: ir.Value, starts: list[int], ends: list[int]) -> ir.Value:
    """z[.., starts:ends] along the spatial dims, where the range may reach outside z (read as zeros)."""
    from mlir.dialects import tensor

    sz, elem = b.shape_of(z), b.elem_of(z)
    r = len(sz) - 2
    lo = [max(0, s) for s in starts]
    hi = [min(sz[2 + i], e) for i, e in enumerate(ends)]
    if lo != [0] * r or hi != list(sz[2:]):
        sizes = [sz[0], sz[1]] + [h - l for l, h in zip(lo, hi)]
        z = tensor.extract_slice(b.ranked(sizes, elem), z, [], [], [], [0, 0] + lo, sizes, [1] * len(sz))
    pad_lo = [max(0, -s) for s in starts]
    pad_hi = [max(0, e - sz[2 + i]) for i, e in enumerate(ends)]
    return b.pad(z, [0, 0] + pad_lo, [0, 0] + pad_hi, 0.0)


def _flipped_kernel_numpy(w: np.ndarray, group: int) -> np.ndarray:
    """[C, F/G, K..] -> [G * F/G, C/G, K..] flipped in every spatial dim (Conv's layout, group-major F)."""
    c, fg = w.shape[:2]
    ks = w.shape[2:]
    wg = w.reshape(group, c // group, fg, *ks).swapaxes(1, 2)            # [G, F/G, C/G, K..]
    wg = np.flip(wg, axis=tuple(range(3, 3 + len(ks))))
    return np.ascontiguousarray(wg.reshape(group * fg, c // group, *ks))


def _flipped_kernel(w: ir.Value, group: int) -> ir.Value:
    """The same at run time: loops (g, f, c, k'_1..k'_r) parallel and (k_1..k_r) reduction,
    out[g, f, c, k'] = sum_k select(J_1[k_1, k'_1] & .., W[g, c, f, k], 0) with constant anti-diagonals J_i."""
    sw, elem = b.shape_of(w), b.elem_of(w)
    c, fg = sw[:2]
    ks = list(sw[2:])
    r = len(ks)
    cg = c // group
    wg = b.reshape(w, [group, cg, fg, *ks])
    n_loops = 3 + 2 * r
    d = b.dims(n_loops)
    kp = [3 + i for i in range(r)]
    kk = [3 + r + i for i in range(r)]
    inputs = [wg]
    maps = [ir.AffineMap.get(n_loops, 0, [d[0], d[2], d[1]] + [d[i] for i in kk])]
    for i in range(r):
        inputs.append(b.constant(np.fliplr(np.eye(ks[i], dtype=np.int8)).copy(), f"flip{ks[i]}"))
        maps.append(ir.AffineMap.get(n_loops, 0, [d[kk[i]], d[kp[i]]]))
    maps.append(ir.AffineMap.get(n_loops, 0, [d[i] for i in [0, 1, 2] + kp]))
    add = arith.addf if is_float(elem) else arith.addi

    def body(v, *rest):
        return add(rest[-1], arith.select(_all_set(rest[:-1]), v, b.scalar(elem, 0)))

    init = b.fill([group, fg, cg, *ks], elem, 0.0)
    out = b.generic(inputs, maps, init, body, ["parallel"] * (3 + r) + ["reduction"] * r)
    return b.reshape(out, [group * fg, cg, *ks])


@converter("ConvTranspose", since=(7, 11, 22))
def conv_transpose(ctx, node):
    x, w = node.require_input(0, "X"), node.require_input(1, "W")
    group, r = check_conv_operands(node, x, w, transposed=True)
    sx, sw = b.shape_of(x), b.shape_of(w)
    ks = list(sw[2:])
    strides, dilations, begin, end, out = transpose_window(node, list(sx[2:]), ks)
    # the zero-inserted input, padded by (k - 1) * d - pad_begin before and (k - 1) * d - pad_end +
    # output_padding after, read by a stride-1 convolution: the window of output o starts at o.
    z = _zero_insert(x, strides)
    starts = [-((k - 1) * dl - pb) for k, dl, pb in zip(ks, dilations, begin)]
    ends = [starts[i] + out[i] + (ks[i] - 1) * dilations[i] for i in range(r)]
    zp = _slice_and_pad(z, starts, ends)
    wc = node.constant(1)
    wf = b.constant(_flipped_kernel_numpy(wc, group), f"{node.input_names[1]}_flipped") if wc is not None \
        else _flipped_kernel(w, group)
    y = conv_nd(zp, wf, [1] * r, dilations, group, out)
    return add_channel_bias(node, y, node.input(2))
