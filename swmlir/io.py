"""Between ``.npz`` files and the raw tensors an emitted program reads and writes.

The program built from an output folder (``make`` on a Sunway login node, or CMake with the emulator) runs as
``./model model.weights.bin in0.bin ... out0.bin ...``: each input and output is one file of raw little-endian
elements, dense and row-major, in graph order (runtime/driver.c). The folder's ``model.io.json`` (written by
``swmlir compile``) names them: graph name, dtype, shape and file of every input and output. This module is the
one place that writes input files and reads output files: ``CompiledModel.run`` uses it, and so does

    swmlir io pack   INPUTS.npz OUTDIR     # arrays keyed by input name -> OUTDIR/in0.bin ...
    swmlir io unpack OUTDIR OUTPUTS.npz    # OUTDIR/out0.bin ... -> arrays keyed by output name

Errors are one-line ``CompileError``s of stage "io" naming the file, the tensor and what does not match.
"""
from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from .errors import CompileError

METADATA = "model.io.json"
FORMAT = "swmlir-io/1"


def input_file(i: int) -> str:
    """File name of input i, as `make run` and the README pass it to the program."""
    return f"in{i}.bin"


def output_file(i: int) -> str:
    return f"out{i}.bin"


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a compiled model: its graph name, element type, shape and file."""
    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    file: str

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def describe(self) -> str:
        return f"{self.dtype.name} {list(self.shape)}"


def specs(tensors, kind: str) -> list[TensorSpec]:
    """TensorSpecs of a model's inputs (kind "in") or outputs ("out"), from objects with name, dtype, shape."""
    name_of = input_file if kind == "in" else output_file
    return [TensorSpec(t.name, np.dtype(t.dtype), tuple(int(d) for d in t.shape), name_of(i))
            for i, t in enumerate(tensors)]


def metadata_text(info, target: str) -> str:
    """model.io.json of a compiled model (ASCII: names with other characters are JSON escapes)."""
    def entry(s: TensorSpec) -> dict:
        return {"name": s.name, "dtype": s.dtype.name, "shape": list(s.shape), "file": s.file, "bytes": s.nbytes}
    head = {"format": FORMAT, "model": info.name, "target": target, "weights": "model.weights.bin",
            "byte_order": "little"}
    lines = [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]   # json.dumps: ASCII, escaped
    for key, kind, tensors in (("inputs", "in", info.inputs), ("outputs", "out", info.outputs)):
        items = [f"  {json.dumps(entry(s))}" for s in specs(tensors, kind)]
        lines.append(f" {json.dumps(key)}: [" + ("\n" + ",\n".join(items) + "\n ]" if items else "]")
                     + ("," if key == "inputs" else ""))
    return "{\n" + "\n".join(lines) + "\n}\n"


def load_metadata(folder: str) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """(inputs, outputs) of the model compiled into `folder`, from its model.io.json."""
    path = os.path.join(folder, METADATA)
    if not os.path.isdir(folder):
        raise CompileError(f"'{folder}' is not a folder (expected the output folder of swmlir compile)", stage="io")
    if not os.path.exists(path):
        raise CompileError(f"no {METADATA} in '{folder}': not an output folder of swmlir compile (or of a version "
                           "before swmlir io; compile the model again)", stage="io")
    try:
        with open(path) as f:
            doc = json.load(f)
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT!r}")

        def spec(d: dict) -> TensorSpec:
            s = TensorSpec(str(d["name"]), np.dtype(d["dtype"]), tuple(int(x) for x in d["shape"]), str(d["file"]))
            if os.path.basename(s.file) != s.file or s.file in ("", ".", ".."):
                raise ValueError(f"file name {s.file!r} is not a plain name")
            return s
        return [spec(d) for d in doc["inputs"]], [spec(d) for d in doc["outputs"]]
    except OSError as e:
        raise CompileError(f"cannot read '{path}': {e.strerror or e}", stage="io") from None
    except (ValueError, KeyError, TypeError) as e:
        raise CompileError(f"'{path}' is not a valid {METADATA}: {type(e).__name__}: {e}", stage="io") from None


def write_inputs(inputs: list[TensorSpec], arrays, folder: str) -> list[str]:
    """Write each array as its input's raw file in `folder` (converted to the input's dtype, little-endian);
    returns the paths. The arrays are assumed checked (check_arrays)."""
    paths = []
    for s, a in zip(inputs, arrays, strict=True):
        p = os.path.join(folder, s.file)
        np.ascontiguousarray(a, dtype=s.dtype.newbyteorder("<")).tofile(p)
        paths.append(p)
    return paths


def read_outputs(outputs: list[TensorSpec], folder: str) -> list[np.ndarray]:
    """The arrays of the output files the program wrote into `folder`, checked against their byte sizes."""
    out = []
    for s in outputs:
        p = os.path.join(folder, s.file)
        if not os.path.isfile(p):
            raise CompileError(f"no {s.file} in '{folder}' (output '{s.name}'): run the model first "
                               "(make run, or ./build/model ...)", stage="io")
        size = os.path.getsize(p)
        if size != s.nbytes:
            raise CompileError(f"{p} has {size} bytes, output '{s.name}' ({s.describe()}) has {s.nbytes}",
                               stage="io")
        out.append(np.fromfile(p, dtype=s.dtype.newbyteorder("<")).astype(s.dtype, copy=False).reshape(s.shape))
    return out


def read_npz(path: str) -> dict[str, np.ndarray]:
    """The named arrays of an .npz file (numpy.savez), with one-line errors."""
    if not os.path.exists(path):
        raise CompileError(f"'{path}' does not exist", stage="io")
    if os.path.isdir(path):
        raise CompileError(f"'{path}' is a folder, expected an .npz file", stage="io")
    if not zipfile.is_zipfile(path):
        raise CompileError(f"'{path}' is not an .npz archive; save the inputs with "
                           "numpy.savez(path, name=array, ...)", stage="io")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}
    except Exception as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e).splitlines()[0][:160]
        raise CompileError(f"cannot read '{path}' as an .npz archive: {reason}", stage="io") from None


def check_arrays(inputs: list[TensorSpec], arrays: dict, where: str) -> list[np.ndarray]:
    """The arrays in input order; one line naming every missing or extra name, wrong dtype and wrong shape. No
    implicit casts: a dtype other than the model's is an error, as for `swmlir run --inputs`."""
    names = [s.name for s in inputs]
    problems = []
    missing = [n for n in names if n not in arrays]
    extra = sorted(k for k in arrays if k not in names)
    if missing:
        problems.append(f"no array for input(s) {missing}")
    if extra:
        problems.append(f"array(s) {extra} name no input")
    for s in inputs:
        a = arrays.get(s.name)
        if a is None:
            continue
        if a.dtype != s.dtype:
            problems.append(f"'{s.name}' is {a.dtype}, the model takes {s.dtype.name} "
                            f"(convert it with .astype(numpy.{s.dtype.name}))")
        if tuple(a.shape) != s.shape:
            problems.append(f"'{s.name}' has shape {list(a.shape)}, the model takes {list(s.shape)}")
    if problems:
        raise CompileError(f"{where} does not match the model (inputs {names}): " + "; ".join(problems), stage="io")
    return [arrays[n] for n in names]


def save_npz(path: str, names: list[str], arrays: list[np.ndarray]) -> None:
    """What numpy.savez(path, **dict(zip(names, arrays))) writes, for any name (also `file` or `allow_pickle`,
    savez's own keywords); `path` is used as given."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for n, a in dict(zip(names, arrays)).items():
            with zf.open(n + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(a), allow_pickle=False)


def pack(npz: str, folder: str) -> list[str]:
    """Write the arrays of `npz` as the input files of the model compiled into `folder`; returns their paths."""
    inputs, _ = load_metadata(folder)
    arrays = check_arrays(inputs, read_npz(npz), f"'{npz}'")
    try:
        return write_inputs(inputs, arrays, folder)
    except OSError as e:
        raise CompileError(f"cannot write the input files into '{folder}': {e.strerror or e}", stage="io") from None


def unpack(folder: str, npz: str) -> list[str]:
    """Read the output files of the model run in `folder` into `npz`, keyed by output name; returns the names."""
    _, outputs = load_metadata(folder)
    arrays = read_outputs(outputs, folder)
    names = [s.name for s in outputs]
    try:
        save_npz(npz, names, arrays)
    except OSError as e:
        raise CompileError(f"cannot write '{npz}': {e.strerror or e}", stage="io") from None
    return names


def main(a) -> int:
    """`swmlir io pack|unpack` (swmlir/cli.py)."""
    if a.io_cmd == "pack":
        paths = pack(a.npz, a.folder)
        inputs, outputs = load_metadata(a.folder)
        print(f"swmlir: wrote {', '.join(os.path.basename(p) for p in paths) or 'no input files'} into {a.folder}/")
        print(f"  run: ./model model.weights.bin {' '.join(s.file for s in inputs + outputs)}   (or: make run)")
    else:
        names = unpack(a.folder, a.npz)
        print(f"swmlir: wrote {', '.join(names)} to {a.npz}")
    return 0


def add_parser(sub) -> None:
    """The `io` subcommand, added to the parser of swmlir/cli.py."""
    p = sub.add_parser("io", help="between .npz files and the input/output files of an emitted program")
    ios = p.add_subparsers(dest="io_cmd", required=True)
    k = ios.add_parser("pack", help="write the arrays of an .npz (keyed by input name) as the program's input "
                                    "files in0.bin ... of an output folder")
    k.add_argument("npz", help=".npz keyed by graph input names (numpy.savez)")
    k.add_argument("folder", help="output folder of swmlir compile (holds model.io.json)")
    u = ios.add_parser("unpack", help="read the program's output files out0.bin ... of an output folder into an "
                                      ".npz keyed by output name")
    u.add_argument("folder", help="output folder of swmlir compile, after a run")
    u.add_argument("npz", help=".npz file to write")
    p.set_defaults(fn=main)
