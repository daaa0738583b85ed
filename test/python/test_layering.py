"""The emit stage's layering (issue 8, item 2), read from the imports (ast), function-level ones included:

- passes never import swmlir.codegen (the file writers): what a pass needs from the emit stage is an analysis
  (swmlir/analysis/: the memory plan, the weights layout) or a shared helper (swmlir/c_names.py);
- swmlir/codegen/ never imports a private pass module (passes/_*.py) nor a private name of a pass module;
- swmlir/analysis/ imports neither (both sides import it).
"""
import ast
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSES = os.path.join(REPO, "passes")
CODEGEN = os.path.join(REPO, "swmlir", "codegen")
ANALYSIS = os.path.join(REPO, "swmlir", "analysis")


def _imports(path: str, package: str) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) of every import in the file; `package` is the file's package
    (for relative imports): passes are imported as swmlir.passes (swmlir/passes is a symlink to passes/)."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod, [a.name for a in node.names]))
    return out


def _targets(mod: str, names: list[str]) -> list[str]:
    """The modules an import can bind: `from a import b` may import the module a.b."""
    return [mod] + [f"{mod}.{n}" for n in names]


def _py_files(folder: str) -> list[str]:
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".py"))


def pass_imports_codegen(mod: str, names: list[str]) -> bool:
    return any(t == "swmlir.codegen" or t.startswith("swmlir.codegen.") for t in _targets(mod, names))


def codegen_imports_pass_internals(mod: str, names: list[str]) -> bool:
    if mod.startswith("passes"):   # the top-level folder imported by its own name
        mod = "swmlir." + mod
    for t in _targets(mod, names):
        parts = t.split(".")
        if parts[:2] == ["swmlir", "passes"] and any(p.startswith("_") and p != "__init__" for p in parts[2:]):
            return True
    return False


def _violations(folder: str, package: str, bad) -> list[str]:
    found = []
    for path in _py_files(folder):
        for line, mod, names in _imports(path, package):
            if bad(mod, names):
                what = f"from {mod} import {', '.join(names)}" if names else f"import {mod}"
                found.append(f"{os.path.relpath(path, REPO)}:{line}: {what}")
    return found


def test_the_folders_are_read():
    assert len(_py_files(PASSES)) > 20 and len(_py_files(CODEGEN)) >= 2 and len(_py_files(ANALYSIS)) >= 2


def test_passes_never_import_codegen():
    found = _violations(PASSES, "swmlir.passes", pass_imports_codegen)
    assert not found, "passes import swmlir.codegen (move what they need to swmlir/analysis/):\n" + "\n".join(found)


def test_codegen_never_imports_private_pass_modules():
    found = _violations(CODEGEN, "swmlir.codegen", codegen_imports_pass_internals)
    assert not found, "swmlir/codegen/ imports private pass modules or names:\n" + "\n".join(found)


def test_analyses_import_neither_passes_nor_codegen():
    def bad(mod, names):
        return any(t.split(".")[:2] in (["swmlir", "codegen"], ["swmlir", "passes"]) or t.split(".")[0] == "passes"
                   for t in _targets(mod, names))
    found = _violations(ANALYSIS, "swmlir.analysis", bad)
    assert not found, "swmlir/analysis/ imports passes or codegen:\n" + "\n".join(found)


@pytest.mark.parametrize("src, package, bad, expected", [
    ("from swmlir.codegen import files", "swmlir.passes", pass_imports_codegen, True),
    ("from swmlir import codegen", "swmlir.passes", pass_imports_codegen, True),
    ("import swmlir.codegen.files", "swmlir.passes", pass_imports_codegen, True),
    ("def f():\n    from ..codegen.files import x", "swmlir.passes", pass_imports_codegen, True),
    ("from swmlir.analysis.memory_plan import plan", "swmlir.passes", pass_imports_codegen, False),
    ("from swmlir.passes._emitc import call", "swmlir.codegen", codegen_imports_pass_internals, True),
    ("from swmlir.passes import _util", "swmlir.codegen", codegen_imports_pass_internals, True),
    ("from ..passes._util import KERNEL_ATTR", "swmlir.codegen", codegen_imports_pass_internals, True),
    ("from swmlir.passes.host_to_emitc import _shape", "swmlir.codegen", codegen_imports_pass_internals, True),
    ("from passes._util import funcs", "swmlir.codegen", codegen_imports_pass_internals, True),
    ("from swmlir.passes.emitc_kernel_entries import kernel_entries", "swmlir.codegen",
     codegen_imports_pass_internals, False),
])
def test_the_checks_see_every_spelling(tmp_path, src, package, bad, expected):
    p = tmp_path / "m.py"
    p.write_text(src + "\n")
    assert any(bad(mod, names) for _, mod, names in _imports(str(p), package)) is expected


def test_model_h_follows_the_host_ir():
    """model.h is written from what the host module's swmlir_run says (its input and output counts); a graph that
    disagrees with it is an error, never a header that does not match the C."""
    from types import SimpleNamespace as NS

    from swmlir.codegen.files import model_header
    from swmlir.errors import LoweringError
    t = NS(name="x", dtype="float32", shape=(1, 4))
    info = NS(name="g", inputs=[t], outputs=[NS(name="y", dtype="float32", shape=(1, 2))])
    h = model_header(info, (1, 1))
    assert "#define SWMLIR_NUM_INPUTS 1" in h and "void swmlir_run(void *x, void *y);" in h
    with pytest.raises(LoweringError, match="swmlir_run takes 2 inputs"):
        model_header(info, (2, 0))


def test_kernels_h_follows_the_kernel_ir():
    """model_kernels.h declares the entries sunway-emitc-kernel-entries added, with their argument counts."""
    from mlir import ir

    from swmlir.codegen.files import kernels_header
    from swmlir.compiler import new_context
    from swmlir.pass_pipeline import run_pipeline
    from swmlir.passes.emitc_kernel_entries import kernel_entries
    with new_context(), ir.Location.unknown():
        m = ir.Module.parse('''
          emitc.func @k(%a: !emitc.ptr<f32>, %b: !emitc.ptr<f32>) attributes {sunway.kernel} { emitc.return }
          emitc.func @z() attributes {sunway.kernel} { emitc.return }
          emitc.func @helper() { emitc.return }''')
        run_pipeline(m, ["sunway-emitc-kernel-entries"])
        entries = kernel_entries(m.operation)
    assert entries == [("k", 2), ("z", 0)]
    h = kernels_header(entries)
    assert "struct k_args { void *a0; void *a1; };" in h and "struct z_args { int unused; };" in h
    assert "helper" not in h
