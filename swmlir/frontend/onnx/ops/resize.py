"""Resize and Upsample: separable resampling, one axis at a time, with every source index and weight computed at
import (shapes and scales are compile-time constants).

Along a resized axis of input length n and output length m, output position y maps to a source coordinate
x(y) (the coordinate transformation mode); the interpolation mode turns x into taps: source indices (clamped
into [0, n), as the edge padding of the ONNX reference does) and weights.
  nearest   one tap: a gather along the axis (movement_util.take: affine runs such as `y floordiv 2`);
  linear    two taps, cubic four, antialiased filters more: one gather per tap and one generic summing
            tap * weight[y] (weights are a constant vector read along the axis).
tf_crop_and_resize positions whose source coordinate falls outside the input give extrapolation_value.
Opset 10 Resize and Upsample: asymmetric coordinates; nearest rounds down when upsampling and up when
downsampling (as onnxruntime does).
"""
from __future__ import annotations

import math

import numpy as np
from mlir import ir
from mlir.dialects import arith

from .. import builders as b
from .. import movement_util as mu
from ..dtypes import is_float
from ..registry import converter
from .movement import as_value, data_input, norm_axes

_COORD_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                "tf_crop_and_resize", "tf_half_pixel_for_nn")
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")


# ----------------------------------------------------------------------------------------------- per-axis plans
def _source_coords(mode: str, m: int, n: int, scale: float, roi: tuple[float, float] | None):
    """(x_original for y = 0..m-1, mask of positions outside the input or None), in float64."""
    y = np.arange(m, dtype=np.float64)
    width = scale * n  # the unrounded output length, as the ONNX reference uses it
    outside = None
    if mode == "half_pixel":
        x = (y + 0.5) / scale - 0.5
    elif mode == "half_pixel_symmetric":
        adjustment = m / width
        x = (n / 2) * (1 - adjustment) + (y + 0.5) / scale - 0.5
    elif mode == "pytorch_half_pixel":
        x = np.full(m, -0.5) if width == 1 else (y + 0.5) / scale - 0.5
    elif mode == "align_corners":
        x = np.zeros(m) if width == 1 else y * (n - 1) / (width - 1)
    elif mode == "asymmetric":
        x = y / scale
    elif mode == "tf_half_pixel_for_nn":
        x = (y + 0.5) / scale
    elif mode == "tf_crop_and_resize":
        lo, hi = roi
        x = np.full(m, (hi - lo) * (n - 1) / 2) if width == 1 else y * (hi - lo) * (n - 1) / (width - 1)
        x = x + lo * (n - 1)
        outside = (x < 0) | (x > n - 1)
    else:
        raise ValueError(f"coordinate_transformation_mode '{mode}'")
    return x, outside


def _nearest(x: np.ndarray, n: int, mode: str, downsampling: bool) -> np.ndarray:
    fl = np.floor(x)
    frac = x - fl
    if mode == "simple":  # opset 10 / Upsample
        idx = np.ceil(x) if downsampling else fl
    elif mode == "round_prefer_floor":
        idx = np.where(frac <= 0.5, fl, fl + 1)
    elif mode == "round_prefer_ceil":
        idx = np.where(frac < 0.5, fl, fl + 1)
    elif mode == "floor":
        idx = fl
    else:
        idx = np.where(frac == 0, fl, fl + 1)
    return np.clip(idx, 0, n - 1).astype(np.int64)


def _cubic_kernel(t: np.ndarray, a: float) -> np.ndarray:
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def _filter_taps(x: np.ndarray, n: int, mode: str, scale: float, cubic_a: float, antialias: bool,
                 exclude_outside: bool):
    """(indices [m, taps] clamped into [0, n), weights [m, taps]) of linear / cubic interpolation."""
    fl = np.floor(x)
    ratio = np.where(x == fl, 1.0, x - fl)  # in (0, 1]: the left neighbour is preferred at integers
    s = min(scale, 1.0) if antialias else 1.0
    if mode == "linear":
        first = int(math.floor(-1 / s)) + 1
        offsets = np.arange(first, 2 - first)  # taps relative to ceil(x) - 1 ... [0, 1] without antialias
        w = np.clip(1 - np.abs((offsets[None, :] - ratio[:, None]) * s), 0, 1)
    else:
        first = int(math.floor(-2 / s)) + 1
        offsets = np.arange(first, 2 - first)  # [-1, 0, 1, 2] without antialias
        w = _cubic_kernel((offsets[None, :] - ratio[:, None]) * s, cubic_a)
    if antialias:
        w = w / w.sum(axis=1, keepdims=True)
    # with ratio in (0, 1], tap offset 0 sits at floor(x) for a fractional x and at x - 1 for an integer x
    base = np.where(x == fl, fl - 1, fl).astype(np.int64)
    idx = base[:, None] + offsets[None, :]
    if exclude_outside:
        w = np.where((idx < 0) | (idx >= n), 0.0, w)
        total = w.sum(axis=1, keepdims=True)
        w = w / np.where(total == 0, 1.0, total)
    return np.clip(idx, 0, n - 1), w


# ----------------------------------------------------------------------------------------------- IR
def _weighted_sum(parts: list[ir.Value], weights: list[np.ndarray], axis: int, outside, extrapolation) -> ir.Value:
    """sum_t parts[t] * weights[t][y] along `axis`, extrapolation_value where `outside[y]`."""
    shape = b.shape_of(parts[0])
    elem = b.elem_of(parts[0])
    rank = len(shape)
    np_t = np.float64 if isinstance(elem, ir.F64Type) else np.float16 if isinstance(elem, ir.F16Type) else np.float32
    ins = list(parts) + [b.constant(w.astype(np_t), "resize_weights") for w in weights]
    maps = [b.identity_map(rank)] * len(parts) + [b.projection_map(rank, [axis])] * len(weights)
    if outside is not None:
        ins.append(b.constant(outside, "resize_outside"))
        maps.append(b.projection_map(rank, [axis]))
    k = len(parts)

    def body(*args):
        vals, ws = args[:k], args[k:2 * k]
        acc = arith.MulFOp(vals[0], ws[0]).result
        for v, w in zip(vals[1:], ws[1:]):
            acc = arith.AddFOp(acc, arith.MulFOp(v, w).result).result
        if outside is not None:
            acc = arith.SelectOp(args[2 * k], b.scalar(elem, extrapolation), acc).result
        return acc

    return b.generic(ins, maps + [b.identity_map(rank)], b.empty(shape, elem), body)


def _mask_outside(y: ir.Value, axis: int, outside: np.ndarray, value) -> ir.Value:
    shape = b.shape_of(y)
    elem = b.elem_of(y)
    rank = len(shape)
    return b.generic([y, b.constant(outside, "resize_outside")],
                     [b.identity_map(rank), b.projection_map(rank, [axis]), b.identity_map(rank)],
                     b.empty(shape, elem), lambda v, o, _: arith.SelectOp(o, b.scalar(elem, value), v).result)


def resample(node, x: ir.Value, out_sizes, scales, *, mode: str, coord: str, nearest_mode: str,
             rois=None, cubic_a: float = -0.75, antialias: bool = False, exclude_outside: bool = False,
             extrapolation: float = 0.0) -> ir.Value:
    s = b.shape_of(x)
    elem = b.elem_of(x)
    if mode != "nearest" and not is_float(elem):
        raise node.error(f"mode '{mode}' needs a floating-point input, got {elem}")
    if extrapolation and not is_float(elem) and coord == "tf_crop_and_resize":
        if not float(extrapolation).is_integer():
            raise node.error(f"extrapolation_value {extrapolation} does not fit the integer input")
    if not is_float(elem):
        extrapolation = int(extrapolation)
    y = x
    nearest = {}  # nearest, no extrapolation: every axis gathered at once
    for axis, (n, m, scale) in enumerate(zip(s, out_sizes, scales)):
        roi = rois[axis] if rois is not None else None
        trivial_roi = roi is None or (math.isclose(roi[0], 0.0) and math.isclose(roi[1], 1.0))
        if m == n and math.isclose(scale, 1.0) and (trivial_roi or coord != "tf_crop_and_resize"):
            continue
        if coord == "tf_crop_and_resize" and roi is None:
            raise node.error("coordinate_transformation_mode tf_crop_and_resize needs the roi input")
        xs, outside = _source_coords(coord, m, n, scale, roi)
        if outside is not None and not outside.any():
            outside = None
        if mode == "nearest":
            idx = _nearest(xs, n, nearest_mode, scale < 1)
            if outside is None:
                nearest[axis] = idx
                continue
            y = mu.take(y, axis, idx)
            y = _mask_outside(y, axis, outside, extrapolation)
            continue
        idx, w = _filter_taps(xs, n, mode, scale, cubic_a, antialias, exclude_outside)
        parts, weights = [], []
        for t in range(idx.shape[1]):
            if not np.any(w[:, t]):
                continue
            parts.append(mu.take(y, axis, idx[:, t]))
            weights.append(w[:, t])
        y = _weighted_sum(parts, weights, axis, outside, extrapolation)
    return mu.take_axes(y, nearest) if nearest else y


# ----------------------------------------------------------------------------------------------- converters
def _const_floats(node, i, what):
    if not node.has_input(i):
        return None
    c = node.constant(i)
    if c is None:
        raise node.needs_constant(i, f"the {what} input '{node.input_names[i]}' must be a constant (initializer or Constant "
                         "node): it decides the output shape")
    if c.size == 0:
        return None
    return [float(v) for v in c.reshape(-1)]


def _const_sizes(node, i):
    if not node.has_input(i):
        return None
    c = node.constant(i)
    if c is None:
        raise node.needs_constant(i, f"the sizes input '{node.input_names[i]}' must be a constant (initializer or Constant "
                         "node): it decides the output shape")
    if c.size == 0:
        return None
    return [int(v) for v in c.reshape(-1)]


def _check_mode(node, mode):
    if mode not in ("nearest", "linear", "cubic"):
        raise node.error(f"mode '{mode}' is not supported (nearest, linear, cubic)")


@converter("Resize", since=(10, 11, 13, 18, 19))  # 11: roi, sizes, modes; 18: axes, antialias, aspect ratio
def resize(ctx, node):
    x = as_value(data_input(node, 0, "X"))
    s = b.shape_of(x)
    r = len(s)
    mode = node.attr("mode", "nearest")
    _check_mode(node, mode)
    if node.opset < 11:
        if mode == "cubic":
            raise node.error("mode 'cubic' does not exist at opset 10")
        scales = _const_floats(node, 1, "scales")
        if scales is None or len(scales) != r:
            raise node.error(f"scales must have one value per input axis ({r})")
        if any(v <= 0 for v in scales):
            raise node.error(f"scales {scales} must be positive")
        out = [int(n * sc) for n, sc in zip(s, scales)]
        if any(o <= 0 for o in out):
            raise node.error(f"scales {scales} give the empty output shape {out}")
        return resample(node, x, out, scales, mode=mode, coord="asymmetric", nearest_mode="simple")

    coord = node.attr("coordinate_transformation_mode", "half_pixel")
    allowed = [c for c in _COORD_MODES if (c != "tf_half_pixel_for_nn" or node.opset < 13)
               and (c != "half_pixel_symmetric" or node.opset >= 19)]
    if coord not in allowed:
        raise node.error(f"coordinate_transformation_mode '{coord}' is not supported at opset {node.opset} "
                         f"({', '.join(allowed)})")
    nearest_mode = node.attr("nearest_mode", "round_prefer_floor")
    if nearest_mode not in _NEAREST_MODES[:4]:
        raise node.error(f"nearest_mode '{nearest_mode}' is not supported ({', '.join(_NEAREST_MODES[:4])})")
    antialias = bool(node.attr("antialias", 0)) if node.opset >= 18 else False
    if antialias and mode == "nearest":
        raise node.error("antialias is only defined for the linear and cubic modes")
    axes = node.attr("axes", None) if node.opset >= 18 else None
    axes = list(range(r)) if axes is None else norm_axes(node, axes, r)
    policy = node.attr("keep_aspect_ratio_policy", "stretch") if node.opset >= 18 else "stretch"
    if policy not in ("stretch", "not_larger", "not_smaller"):
        raise node.error(f"keep_aspect_ratio_policy '{policy}' is not supported")

    roi = _const_floats(node, 1, "roi") if coord == "tf_crop_and_resize" else None
    scales = _const_floats(node, 2, "scales")
    sizes = _const_sizes(node, 3)
    if (scales is None) == (sizes is None):
        raise node.error("exactly one of scales and sizes must be given (non-empty)")
    full_scale, full_out = [1.0] * r, list(s)
    if scales is not None:
        if len(scales) != len(axes):
            raise node.error(f"scales {scales} must have one value per resized axis ({len(axes)})")
        if any(v <= 0 for v in scales):
            raise node.error(f"scales {scales} must be positive")
        for a, sc in zip(axes, scales):
            full_scale[a] = sc
            full_out[a] = int(sc * s[a])
    else:
        if len(sizes) != len(axes):
            raise node.error(f"sizes {sizes} must have one value per resized axis ({len(axes)})")
        if any(v <= 0 for v in sizes):
            raise node.error(f"sizes {sizes} must be positive")
        ratios = [sz / s[a] for a, sz in zip(axes, sizes)]
        if policy == "stretch":
            for a, sz, q in zip(axes, sizes, ratios):
                full_scale[a], full_out[a] = q, sz
        else:
            q = min(ratios) if policy == "not_larger" else max(ratios)
            for a in axes:
                full_scale[a], full_out[a] = q, int(q * s[a] + 0.5)
    if any(o <= 0 for o in full_out):
        raise node.error(f"the output shape {full_out} is empty")
    rois = None
    if roi is not None:
        if len(roi) != 2 * len(axes):
            raise node.error(f"roi {roi} must have 2 values per resized axis ({len(axes)})")
        rois = [(0.0, 1.0)] * r
        for i, a in enumerate(axes):
            rois[a] = (roi[i], roi[len(axes) + i])
    return resample(node, x, full_out, full_scale, mode=mode, coord=coord, nearest_mode=nearest_mode, rois=rois,
                    cubic_a=float(node.attr("cubic_coeff_a", -0.75)), antialias=antialias,
                    exclude_outside=bool(node.attr("exclude_outside", 0)),
                    extrapolation=float(node.attr("extrapolation_value", 0.0)))


@converter("Upsample", since=(7, 9, 10))  # 9: scales is an input; 10: deprecated (Resize)
def upsample(ctx, node):
    if node.opset >= 10:
        raise node.error(f"Upsample is deprecated since opset 10 (this model is opset {node.opset}); use Resize")
    x = as_value(data_input(node, 0, "X"))
    s = b.shape_of(x)
    mode = node.attr("mode", "nearest")
    if mode not in ("nearest", "linear", "bilinear"):
        raise node.error(f"mode '{mode}' is not supported (nearest, linear)")
    if node.opset < 9:
        scales = node.attr("scales", None)
        if scales is None:
            raise node.error("missing required attribute 'scales'")
        scales = [float(v) for v in scales]
    else:
        scales = _const_floats(node, 1, "scales")
    if scales is None or len(scales) != len(s):
        raise node.error(f"scales must have one value per input axis ({len(s)})")
    if any(v < 1 for v in scales):
        raise node.error(f"scales {scales} must be >= 1")
    out = [int(n * sc) for n, sc in zip(s, scales)]
    return resample(node, x, out, scales, mode="nearest" if mode == "nearest" else "linear", coord="asymmetric",
                    nearest_mode="simple")
