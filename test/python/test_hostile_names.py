"""Names from the model are untrusted: none may add C to the emitted files, and any valid graph compiles.

Covers issue 9: graph/tensor/node/initializer names that close C comments, carry preprocessor lines, quotes,
backslashes, control and non-ASCII characters, C keywords, names equal after sanitizing, very long names;
a graph that lists one output twice; a graph input that is also an output. Each runs end to end on the
emulator against onnxruntime.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import swmlir
from swmlir import c_names
from swmlir.testing.compare import run_onnxruntime

EVIL = "*/ int evil = 1; /*"
PREPROC = "*/\n#error evil\n/*"          # a preprocessor line, if it ever left the comment, stops the build
NASTY = [EVIL, PREPROC, 'q"uote', "back\\slash\\", "new\nline\r\t", "%s%n%d", "ün\u540dic\U0001f600ode", "??/",
         "\x00\x01\x7f", "/*/", "*", "int", "main", "swmlir_run", "_Reserved", "9lives", "x" * 300, ""]
C_FILES = ("model_host.c", "model_slave.c", "model.h", "model_kernels.h")
TEXT_FILES = C_FILES + ("model.weights.txt", "Makefile", "CMakeLists.txt")
SHAPE = [4, 64]
KEYWORDS = {"int", "main", "void", "char", "return", "if", "struct"}


def f32(name, shape=SHAPE):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def model(nodes, inputs, outputs, initializers=(), name="g"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def hostile_model():
    ins = ["a-b", "a_b", "int", PREPROC + '"\\%s\u540d\t']
    w, k = "w" + EVIL + "\n\u00fc\u00fc", PREPROC + '"'   # a weight (dense_resource) and an inline constant
    t1, t2 = "t" + EVIL, "swmlir_init"
    outs = ["main", 'y"\\' + EVIL + "\n" + "x" * 300, "swmlir_run", "%s%n", "\u8f93\u51fa\u00fc"]
    nodes = [
        helper.make_node("Add", [ins[0], ins[1]], [t1], name=EVIL + '"\\\n%s \u00fc' + "n" * 300),
        helper.make_node("Mul", [t1, w], [t2], name="swmlir_run"),
        helper.make_node("Add", [t2, ins[2]], [outs[0]], name="int"),
        helper.make_node("Relu", [outs[0]], [outs[1]], name=PREPROC),
        helper.make_node("Sub", [t2, k], [outs[2]], name="a-b"),
        helper.make_node("Sub", [outs[2], ins[3]], [outs[3]], name="a_b"),
        helper.make_node("Neg", [outs[3]], [outs[4]], name="\u540d" * 100),
    ]
    rng = np.random.default_rng(0)
    inits = [onnx.numpy_helper.from_array(rng.standard_normal(SHAPE).astype(np.float32), w),
             onnx.numpy_helper.from_array(rng.standard_normal((4, 1)).astype(np.float32), k)]
    return model(nodes, [f32(n) for n in ins], [f32(n) for n in outs], inits,
                 name=EVIL + PREPROC + ' "q" \\ %s \u00fc \u540d ??/ ' + "g" * 300)


def feeds_for(m: onnx.ModelProto) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    inits = {t.name for t in m.graph.initializer}
    return {i.name: rng.standard_normal(SHAPE).astype(np.float32) for i in m.graph.input if i.name not in inits}


def check_end_to_end(m: onnx.ModelProto) -> swmlir.CompiledModel:
    """Compile, run on the emulator with inputs keyed by name, and match every output with onnxruntime."""
    feeds = feeds_for(m)
    compiled = swmlir.compile(m)
    got = compiled.run(feeds)
    want = run_onnxruntime(m, feeds)
    assert len(got) == len(want) == len(m.graph.output)
    for o, g, r in zip(m.graph.output, got, want):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6, err_msg=f"output {o.name!r}")
    return compiled


def without_comments(path) -> str:
    """The C file as the compiler sees it with every comment removed (by the compiler itself)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    proc = subprocess.run([cc, "-fpreprocessed", "-dD", "-E", "-P", "-x", "c", str(path)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# ----------------------------------------------------------------------------------------------- c_names
@pytest.mark.parametrize("text", NASTY)
def test_comment_is_one_safe_line(text):
    s = c_names.comment(text)
    assert all(" " <= c <= "~" for c in s)
    for wrapped in (f"/*{s}*/", f"/* {s} */", f"/*'{s}'*/"):   # one comment, ended by our terminator only
        assert wrapped.find("*/", 2) == len(wrapped) - 2 and "/*" not in wrapped[1:]
    assert "??" not in s
    assert not s.endswith("\\")


def test_identifiers_are_valid_distinct_and_not_reserved():
    namer = c_names.Namer()
    names = NASTY + ["a-b", "a_b", "a.b", "a b", "a_b_2", "x" * 300 + "1", "x" * 300 + "2", "size_t", "NULL"]
    idents = [namer(n) for n in names]
    assert len(set(idents)) == len(idents)
    for i in idents:
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", i), i
        assert i not in KEYWORDS | {"NULL", "size_t", "swmlir_run"}
    assert idents[names.index("a-b")] == "a_b"   # clean names stay readable


# ----------------------------------------------------------------------------------------------- end to end
def test_hostile_names_emit_no_code_and_run(tmp_path):
    m = hostile_model()
    compiled = check_end_to_end(m)
    compiled.save(str(tmp_path))
    for f in TEXT_FILES:
        text = (tmp_path / f).read_text()
        assert all(" " <= c <= "~" for line in text.splitlines() for c in line.replace("\t", " ")), f
    for f in C_FILES:
        code = without_comments(tmp_path / f)
        assert not re.search(r"\bevil\b|#\s*error|%s|\"q\"", code), f
    header = (tmp_path / "model.h").read_text()
    params = re.search(r"void swmlir_run\(([^)]*)\);", header).group(1)
    idents = [p.replace("void *", "").strip() for p in params.split(",")]
    assert len(idents) == len(set(idents)) == 9
    assert not set(idents) & (KEYWORDS | {"swmlir_run", "swmlir_init"})
    assert idents[:2] == ["a_b", "a_b_2"]
    assert all(re.fullmatch(r"[A-Za-z_]\w*", k) and len(k) < 64 for k, _ in compiled.kernels)
    n_weights = sum(1 for line in (tmp_path / "model.weights.txt").read_text().splitlines()
                    if not line.startswith("#"))
    assert n_weights == 2   # one line per initializer: no name added a line


def test_output_listed_three_times():
    m = model([helper.make_node("Relu", ["x"], ["y"])], [f32("x")], [f32("y")] * 3)
    check_end_to_end(m)


def test_input_is_also_output():
    m = model([helper.make_node("Relu", ["x"], ["y"])], [f32("x")], [f32("x"), f32("y"), f32("x")])
    compiled = check_end_to_end(m)
    assert "void swmlir_run(void *x, void *x_2, void *y, void *x_3);" in compiled.files["model.h"]
