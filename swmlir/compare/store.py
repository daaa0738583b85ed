"""A folder of named arrays, each one raw file, with a manifest: how every stage hands its values to the comparison.

Written once by whoever computes the values (onnxruntime, the JIT writing straight into memory-mapped files, the
emulator's driver writing its output files), read back one array at a time through a memory map, so that the
comparison never holds more than the two arrays it compares.
"""
from __future__ import annotations

import json
import os

import numpy as np

MANIFEST = "manifest.json"


class Store:
    def __init__(self, folder: str):
        self.folder = folder
        self.entries: dict[str, dict] = {}
        path = os.path.join(folder, MANIFEST)
        if os.path.exists(path):
            with open(path) as f:
                self.entries = {e["name"]: e for e in json.load(f)}

    def add(self, name: str, dtype, shape, file: str) -> None:
        """Record a raw little-endian, row-major file already in the folder."""
        self.entries[name] = {"name": name, "dtype": np.dtype(dtype).str, "shape": [int(d) for d in shape],
                              "file": file}

    def put(self, name: str, array: np.ndarray) -> None:
        file = f"v{len(self.entries)}.bin"
        a = np.asarray(array)
        np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tofile(os.path.join(self.folder, file))
        self.add(name, a.dtype.newbyteorder("<"), a.shape, file)

    def create(self, name: str, dtype, shape) -> np.ndarray:
        """A writable memory-mapped array in the folder (a JIT writes its results into it)."""
        file = f"v{len(self.entries)}.bin"
        dt = np.dtype(dtype).newbyteorder("<")
        self.add(name, dt, shape, file)
        if not shape:
            return np.zeros((), dt)   # a memmap cannot be 0-d: written by flush()
        return np.memmap(os.path.join(self.folder, file), dtype=dt, mode="w+", shape=tuple(shape))

    def flush(self, name: str, array: np.ndarray) -> None:
        """The contents of an array from create() on disk."""
        if isinstance(array, np.memmap):
            array.flush()
        else:
            array.tofile(os.path.join(self.folder, self.entries[name]["file"]))

    def save(self) -> None:
        with open(os.path.join(self.folder, MANIFEST), "w") as f:
            json.dump(list(self.entries.values()), f)

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def get(self, name: str) -> np.ndarray:
        e = self.entries[name]
        path = os.path.join(self.folder, e["file"])
        dt, shape = np.dtype(e["dtype"]), tuple(e["shape"])
        want = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        size = os.path.getsize(path) if os.path.exists(path) else -1
        if size != want:
            raise ValueError(f"{path} has {size} bytes, '{name}' ({dt.name} {list(shape)}) needs {want}")
        if not shape or want == 0:
            return np.fromfile(path, dtype=dt).reshape(shape)
        return np.memmap(path, dtype=dt, mode="r", shape=shape)
