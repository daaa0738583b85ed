"""swmlir-opt's error paths and the one-PassManager driver (swmlir.pass_pipeline)."""
import subprocess
import sys

import pytest
from mlir import ir

from swmlir import passes
from swmlir.dialects import load_sunway_dialect
from swmlir.errors import CompileError
from swmlir.pass_pipeline import run_pipeline

SRC = "func.func @f(%x: f32) -> f32 {\n  return %x : f32\n}\n"


def opt(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "swmlir.opt", *args], capture_output=True, text=True, input=stdin)


def test_version():
    p = opt("-version")
    assert p.returncode == 0 and "swmlir" in p.stdout and "MLIR 22." in p.stdout


@pytest.mark.parametrize("args,needle", [
    (["/nonexistent/in.mlir"], "cannot open input file '/nonexistent/in.mlir'"),
    (["-", "-sunway-check-ldm=colour=red"], "has no option 'colour'"),
    (["-", "-sunway-map-cpes=target"], "option 'target' needs a value"),
    (["-", "--no-such-pass"], "unknown option or pass '-no-such-pass'"),
    (["-", "-pass-pipeline=builtin.module(func.func(sunway-host-to-emitc))"], "cannot be nested in func.func"),
])
def test_clean_one_line_errors(args, needle):
    p = opt(*args, stdin=SRC)
    assert p.returncode == 1 and needle in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_parse_error_is_located(tmp_path):
    f = tmp_path / "bad.mlir"
    f.write_text("func.func @f() {\n  %0 = arith.constant : i32\n}\n")
    p = opt(str(f))
    assert p.returncode == 1 and f"{f}:2:" in p.stderr and "Traceback" not in p.stderr


def _bad_return(op):
    """A pass that makes @f return an i32 where f32 is declared: the verifier must catch it."""
    def visit(o):
        if o.name == "func.return":
            with ir.InsertionPoint(o), o.location:
                c = ir.Operation.create("arith.constant", results=[ir.IntegerType.get_signless(32)],
                                        attributes={"value": ir.IntegerAttr.get(ir.IntegerType.get_signless(32), 1)})
            o.operands[0] = c.results[0]
        return ir.WalkResult.ADVANCE
    op.walk(visit)


@pytest.fixture
def bad_pass():
    passes.load_all()
    passes.register_pass("test-bad-return", "makes invalid IR")(_bad_return)
    yield
    del passes.REGISTRY["test-bad-return"]


def test_verifier_runs_after_our_pass(bad_pass):
    with ir.Context() as ctx, ir.Location.unknown():
        load_sunway_dialect(ctx)
        m = ir.Operation.parse("module {\n" + SRC + "}", source_name="in.mlir")
        with pytest.raises(CompileError) as e:
            run_pipeline(m, "builtin.module(test-bad-return, canonicalize)")
    msg = str(e.value)
    assert "the IR after pass test-bad-return does not verify at in.mlir:3:3" in msg and "\n" not in msg


def test_our_error_is_located_and_names_the_pass():
    src = ("func.func @dynamic(%n: index) {\n  %l = memref.alloc(%n) : memref<?x16xf32, 2>\n  return\n}\n")
    with ir.Context() as ctx, ir.Location.unknown():
        load_sunway_dialect(ctx)
        m = ir.Operation.parse("module {\n" + src + "}", source_name="k.mlir")
        with pytest.raises(CompileError) as e:
            run_pipeline(m, ["lower-affine", "func.func(sunway-lower-ldm)"])
    assert str(e.value).startswith("pass func.func(sunway-lower-ldm) failed at k.mlir:3:")
    assert "LDM buffers must be static" in str(e.value) and e.value.location is not None


def test_timing_names_each_pass():
    seen = []
    with ir.Context() as ctx, ir.Location.unknown():
        load_sunway_dialect(ctx)
        m = ir.Operation.parse("module {\n" + SRC + "}", source_name="t.mlir")
        run_pipeline(m, ["canonicalize", "sunway-lower-ldm", "cse"], timing=lambda n, s: seen.append(n))
    assert seen == ["canonicalize", "sunway-lower-ldm", "cse"]
