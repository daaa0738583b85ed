"""The weights file: every constant buffer of the host module, 128-byte aligned, in one binary file.

The bytes of `dense_resource` constants are not reachable through the Python bindings: they come from the
importer's WeightTable (ModelInfo.weights), or for IR that no importer made from the module's printed resource
section (`{-# dialect_resources ... #-}`, WeightTable.from_module).
"""
from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from mlir import ir

from swmlir import progress
from swmlir import c_names
from swmlir.errors import LoweringError

ALIGN = 128
LARGE_WEIGHTS = 64 << 20   # weights from this size on have a progress display of their own (on a terminal)


def align(n: int, a: int = ALIGN) -> int:
    return (n + a - 1) // a * a


@dataclass
class WeightEntry:
    name: str       # memref.global symbol
    offset: int     # byte offset in the weights file
    nbytes: int
    label: str = ""  # the ONNX name it came from (the dense_resource key), when there is one


_RESOURCE = re.compile(r'^\s*([^\s:]+): "0x([0-9A-Fa-f]*)"', re.M)


def resource_blobs(module: ir.Module) -> dict[str, bytes]:
    """name -> raw bytes of every builtin dense resource in the module (alignment prefix stripped)."""
    text = str(module)
    start = text.find("dialect_resources")
    if start < 0:
        return {}
    blobs = {}
    for m in _RESOURCE.finditer(text, start):
        raw = bytes.fromhex(m.group(2))
        blobs[m.group(1).strip('"')] = raw[4:]  # the first 4 bytes hold the blob's alignment
    return blobs


def _np_dtype(t: ir.Type) -> np.dtype:
    s = str(t)
    table = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "i64": np.int64, "i32": np.int32,
             "i16": np.int16, "i8": np.int8, "i1": np.bool_, "index": np.int64}
    if s not in table:
        raise LoweringError(f"constant of element type {s} is not supported in the weights file")
    return np.dtype(table[s])


def global_bytes(op: ir.Operation, blobs: "WeightTable") -> bytes:
    """The initial value of a memref.global as bytes in memory order (a dense_resource's from `blobs`)."""
    t = ir.TypeAttr(op.attributes["type"]).value
    n = int(np.prod(t.shape)) if t.shape else 1
    dt = _np_dtype(t.element_type)
    init = op.attributes["initial_value"]
    text = str(init)
    if text.startswith("dense_resource<"):
        key = text[len("dense_resource<"):text.index(">")]
        if key not in blobs:
            raise LoweringError(f"no data for resource {key}")
        data = blobs.raw(key)
    else:
        if isinstance(init, ir.DenseElementsAttr) and init.is_splat:
            # the buffer of a splat holds one element (and i1 splats are bit-packed): expand it ourselves
            if dt == np.bool_:
                first = bool(init[0])
            else:  # (indexing a splat fails for f16: read the buffer, which holds the one element)
                first = np.array(init).reshape(-1)[0]
            arr = np.full(n, first)
        elif dt == np.bool_:
            arr = np.array([bool(init[i]) for i in range(len(init))])  # i1 is bit-packed in the buffer
        else:
            arr = np.array(init)  # DenseElementsAttr supports the buffer protocol
        data = arr.astype(dt).tobytes()
    if dt == np.bool_:
        data = np.frombuffer(data, dtype=np.uint8).astype(np.bool_).tobytes()
    expected = n * dt.itemsize
    if len(data) != expected:
        raise LoweringError(f"constant {op.attributes['sym_name']} has {len(data)} bytes, expected {expected}")
    return data


def _weight_globals(module_op: ir.Operation) -> list[ir.Operation]:
    return [op.operation for op in module_op.regions[0].blocks[0].operations
            if op.operation.name == "memref.global" and "initial_value" in op.operation.attributes]


def weight_layout(module_op: ir.Operation) -> list[WeightEntry]:
    """Offsets of every constant buffer (memref.global with an initial value) in the weights file."""
    entries, offset = [], 0
    for op in _weight_globals(module_op):
        t = ir.TypeAttr(op.attributes["type"]).value
        nbytes = int(np.prod(t.shape)) * _np_dtype(t.element_type).itemsize
        init = str(op.attributes["initial_value"])
        label = init[len("dense_resource<"):init.index(">")] if init.startswith("dense_resource<") else ""
        entries.append(WeightEntry(ir.StringAttr(op.attributes["sym_name"]).value, offset, nbytes, label))
        offset += align(nbytes)
    return entries


class WeightTable(Mapping):
    """The data of a module's `dense_resource` constants: resource key -> numpy array (as the blob holds it).

    The importer returns one (`ModelInfo.weights`) holding every blob it made (frontend/onnx/builders.constant);
    sunway-pack-weights adds the tile-major copies it makes; swmlir.compile writes the weights file from it.
    The Python bindings cannot read a blob's bytes back from the IR, so IR that no importer made (a .mlir file
    given to swmlir-opt) has its table read from the printed resource section: `WeightTable.from_module`."""

    def __init__(self, arrays: dict | None = None):
        self._arrays: dict[str, np.ndarray] = dict(arrays or {})

    def add(self, key: str, array: np.ndarray) -> None:
        self._arrays[key] = array

    def raw(self, key: str) -> bytes:
        """The blob's bytes in memory order."""
        return np.ascontiguousarray(self._arrays[key]).tobytes()

    def __getitem__(self, key: str) -> np.ndarray:
        return self._arrays[key]

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    @classmethod
    def from_module(cls, module) -> "WeightTable":
        """The blobs of the module's printed resource section (bytes, as uint8 arrays)."""
        return cls({k: np.frombuffer(v, dtype=np.uint8) for k, v in resource_blobs(module).items()})


_RECORDING: "contextvars.ContextVar[WeightTable | None]" = contextvars.ContextVar("swmlir_weights", default=None)


@contextlib.contextmanager
def recording(table: WeightTable):
    """While active, builders.constant adds every blob it makes to `table`, and sunway-pack-weights reads the
    constants' data from it (the importer around the import, swmlir.compile around the pass pipeline)."""
    token = _RECORDING.set(table)
    try:
        yield table
    finally:
        _RECORDING.reset(token)


def recording_table() -> WeightTable | None:
    """The table `recording` made active; None outside (swmlir-opt: read the module, WeightTable.from_module)."""
    return _RECORDING.get()


def weights_file(module: ir.Module, table: WeightTable) -> bytes:
    """The weights file's bytes, in the order and at the offsets of `weight_layout`; the constants' data from
    `table` (ModelInfo.weights, or WeightTable.from_module for IR that no importer made)."""
    globals_ = _weight_globals(module.operation)
    if not globals_:
        return b""
    blobs = table
    chunks = []
    total = sum(e.nbytes for e in weight_layout(module.operation))
    # through the weights of a large model, on a terminal (swmlir.progress; small weights show nothing)
    with progress.bar(total, "weights", "B", unit_scale=True, delay=0.5, leave=False,
                      on=progress.enabled() and total >= LARGE_WEIGHTS) as shown:
        for op in globals_:
            data = global_bytes(op, blobs)
            chunks.append(data + b"\0" * (align(len(data)) - len(data)))
            shown.update(len(data))
    return b"".join(chunks)


def manifest(module_op: ir.Operation) -> str:
    """A text table of the weights file: what lies where (written next to it as model.weights.txt)."""
    lines = ["# swmlir weights file: offset (bytes, 128-byte aligned), size (bytes), element type and shape, name"]
    types = {ir.StringAttr(op.attributes["sym_name"]).value: ir.TypeAttr(op.attributes["type"]).value
             for op in _weight_globals(module_op)}
    for e in weight_layout(module_op):
        t = types[e.name]
        shape = "x".join(str(d) for d in t.shape) or "scalar"
        name = c_names.comment(e.label or e.name)
        lines.append(f"{e.offset:>12} {e.nbytes:>12} {str(t.element_type):>5} {shape:<20} {name}")
    return "\n".join(lines) + "\n"
