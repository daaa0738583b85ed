"""Conv (2-D, group 1): explicit padding, then `linalg.conv_2d_nchw_fchw` into a zero-filled init, then bias."""
from __future__ import annotations

from mlir.dialects import arith, linalg

from .. import builders as b
from ..registry import converter
from . import window


@converter("Conv", since=7)
@converter("Conv", since=11)
@converter("Conv", since=22)
def conv(ctx, node):
    x, w = node.require_input(0, "X"), node.require_input(1, "W")
    bias = node.input(2)
    node.require_float(x, "X")
    if b.elem_of(w) != b.elem_of(x):
        raise node.error(f"W has element type {b.elem_of(w)}, X has {b.elem_of(x)}")
    sx, sw = b.shape_of(x), b.shape_of(w)
    if len(sx) != 4:
        raise node.error(f"only 2-D convolution (a 4-D NCHW input) is supported; X has shape {list(sx)}")
    if len(sw) != 4:
        raise node.error(f"W must be 4-D (F, C, KH, KW), got shape {list(sw)}")
    group = node.attr("group", 1)
    if group != 1:
        raise node.error(f"group={group} is not supported yet (only group=1); grouped and depthwise "
                         "convolutions need a different linalg op")
    n, c, h, wd = sx
    f, cw, kh, kw = sw
    if cw != c:
        raise node.error(f"W has {cw} input channels, X has {c}")
    ks = node.attr("kernel_shape", None)
    if ks is not None and list(ks) != [kh, kw]:
        raise node.error(f"kernel_shape {list(ks)} does not match W's spatial shape {[kh, kw]}")
    win = window.resolve(node, [h, wd], [kh, kw])
    low, high = win.padding([h, wd])
    xp = b.pad(x, [0, 0] + low, [0, 0] + high, 0.0)
    init = b.fill([n, f, *win.out], b.elem_of(x), 0.0)
    y = linalg.conv_2d_nchw_fchw(xp, w, outs=[init], strides=win.strides, dilations=win.dilations)
    if bias is None:
        return y
    if b.shape_of(bias) != (f,) or b.elem_of(bias) != b.elem_of(x):
        raise node.error(f"B must be a 1-D tensor of {f} {b.elem_of(x)}, got {bias.type}")
    maps = [b.identity_map(4), b.projection_map(4, [1]), b.identity_map(4)]
    return b.generic([y, bias], maps, b.empty(b.shape_of(y), b.elem_of(x)), lambda v, c_, _: arith.addf(v, c_))
