"""External tensor data is read only from inside the model's folder, with symbolic links resolved (issue 9).

Each escape is refused by swmlir's own check, with one line naming the tensor and the path: a `../` location,
an absolute location, a symlink inside the folder to a file outside it, a symlinked directory, a hard link.
A ModelProto with external data is never resolved against the current directory: it needs `base_dir`.
The onnx floor pinned in pyproject.toml refuses the same escapes in onnx.load itself.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import swmlir
from swmlir.errors import CompileError
from swmlir.frontend.onnx import import_onnx
from swmlir.frontend.onnx.validate import InvalidModelError, load_model

W = np.arange(8, dtype=np.float32) + 1
SECRET = np.full(8, 7.0, np.float32)


def model_with_external(location: str, name: str = "weights.w", length: int | None = None) -> onnx.ModelProto:
    t = numpy_helper.from_array(np.zeros(8, np.float32), name)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(32 if length is None else length))):
        e = t.external_data.add()
        e.key, e.value = k, v
    g = helper.make_graph([helper.make_node("Add", ["x", name], ["y"], name="add")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8])], [t])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture
def place(tmp_path):
    """A model folder, a secret file outside it; returns a function writing the model for a location."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.bin").write_bytes(SECRET.tobytes())
    folder = tmp_path / "model"
    folder.mkdir()

    def write(location: str) -> Path:
        p = folder / "m.onnx"
        p.write_bytes(model_with_external(location).SerializeToString())
        return p

    write.folder, write.outside = folder, outside
    return write


def escapes(place):
    """(label, location) of each way out of the folder, with the files that make it work."""
    folder, outside = place.folder, place.outside
    os.symlink(outside / "secret.bin", folder / "link.bin")
    os.symlink(outside, folder / "sub")
    return [("dotdot", "../outside/secret.bin"), ("dotdot-inner", "a/../../outside/secret.bin"),
            ("absolute", str(outside / "secret.bin")), ("symlink", "link.bin"), ("symlinked-dir", "sub/secret.bin")]


def assert_refused(err: BaseException, location: str) -> None:
    msg = str(err)
    assert "\n" not in msg, msg
    assert "'weights.w'" in msg and location in msg, msg
    assert "absolute path" in msg or "outside the model's folder" in msg, msg
    assert "Traceback" not in msg and "ValidationError" not in msg


@pytest.mark.parametrize("label", ["dotdot", "dotdot-inner", "absolute", "symlink", "symlinked-dir"])
def test_each_escape_is_refused_by_our_check(place, label):
    location = dict(escapes(place))[label]
    path = place(location)
    with pytest.raises(InvalidModelError) as info:
        swmlir.compile(str(path))
    assert_refused(info.value, location)
    if label != "absolute":  # the message names where the location leads
        assert str(place.outside.resolve() / "secret.bin") in str(info.value)
    # the same through the importer and for a ModelProto with the folder as base_dir
    proto = onnx.load(str(path), load_external_data=False)
    with pytest.raises(InvalidModelError):
        from mlir import ir
        with ir.Context():
            import_onnx(str(path))
    with pytest.raises(InvalidModelError) as info:
        swmlir.compile(proto, base_dir=place.folder)
    assert_refused(info.value, location)


def test_hard_link_is_refused(place):
    os.link(place.outside / "secret.bin", place.folder / "hard.bin")
    with pytest.raises(InvalidModelError, match="hard links"):
        load_model(str(place("hard.bin")))


def test_data_inside_the_folder_is_read(place):
    sub = place.folder / "data"
    sub.mkdir()
    (sub / "w.bin").write_bytes(W.tobytes())
    os.symlink("data/w.bin", place.folder / "alias.bin")   # a link that stays inside the folder is fine
    for location in ("data/w.bin", "./data/../data/w.bin", "alias.bin"):
        m = load_model(str(place(location)))
        np.testing.assert_array_equal(numpy_helper.to_array(m.graph.initializer[0]), W)
    compiled = swmlir.compile(str(place("data/w.bin")))
    x = np.linspace(-1, 1, 8).astype(np.float32)
    np.testing.assert_allclose(compiled.run({"x": x})[0], x + W, rtol=1e-6)


def test_model_proto_needs_base_dir_and_never_reads_the_current_directory(place, monkeypatch):
    (place.folder / "w.bin").write_bytes(W.tobytes())
    proto = onnx.load(str(place("w.bin")), load_external_data=False)
    monkeypatch.chdir(place.folder)   # a w.bin is right here: it must still not be read without base_dir
    with pytest.raises(CompileError) as info:
        swmlir.compile(proto)
    msg = str(info.value)
    assert "base_dir" in msg and "'weights.w'" in msg and "w.bin" in msg and "\n" not in msg
    with pytest.raises(CompileError, match="base_dir"):
        from mlir import ir
        with ir.Context():
            import_onnx(proto)
    compiled = swmlir.compile(proto, base_dir=str(place.folder))
    x = np.ones(8, np.float32)
    np.testing.assert_allclose(compiled.run({"x": x})[0], x + W)
    # the caller's ModelProto is left as it was (the data went into a copy)
    assert proto.graph.initializer[0].data_location == TensorProto.EXTERNAL
    assert not proto.graph.initializer[0].raw_data


def test_missing_and_short_external_files(place):
    with pytest.raises(InvalidModelError, match=r"cannot read external data file 'nope.bin'.*No such file"):
        load_model(str(place("nope.bin")))
    (place.folder / "short.bin").write_bytes(b"\0" * 8)
    with pytest.raises(InvalidModelError, match="has 8 bytes, but the tensor needs 32 bytes"):
        load_model(str(place("short.bin")))
    (place.folder / "w.bin").write_bytes(W.tobytes())
    p = place.folder / "bad_length.onnx"
    p.write_bytes(model_with_external("w.bin", length=12).SerializeToString())
    with pytest.raises(InvalidModelError, match=r"\(32 bytes\) but its external data length is 12 bytes"):
        load_model(str(p))


def test_cli_refuses_an_escape_in_one_line(place):
    import subprocess
    import sys
    os.symlink(place.outside / "secret.bin", place.folder / "link.bin")
    p = subprocess.run([sys.executable, "-m", "swmlir.cli", "run", str(place("link.bin"))], capture_output=True,
                       text=True)
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "outside the model's folder" in lines[0] and "Traceback" not in p.stderr


# ----------------------------------------------------------------------------------------------- the onnx floor
def _onnx_floor() -> tuple[int, ...]:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    m = re.search(r'"onnx>=([0-9.]+)"', text)
    assert m, "pyproject.toml pins no onnx floor"
    return tuple(int(p) for p in m.group(1).split("."))


def test_onnx_floor_is_installed():
    # 1.21.0 fixed the symlink escapes of onnx.load (CVE-2026-27489, CVE-2026-34447) and hard links (34446)
    assert _onnx_floor() >= (1, 21)
    have = tuple(int(p) for p in re.findall(r"\d+", onnx.__version__)[:3])
    assert have >= _onnx_floor()


@pytest.mark.parametrize("label", ["dotdot", "dotdot-inner", "absolute", "symlink", "symlinked-dir"])
def test_onnx_at_the_floor_refuses_the_escapes_itself(place, label):
    location = dict(escapes(place))[label]
    with pytest.raises(onnx.checker.ValidationError):
        onnx.load(str(place(location)))
