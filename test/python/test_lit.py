"""The lit tests (test/lit: FileCheck tests of the dialect, the passes and the importer), one pytest test per file.

Each test runs lit on its one file, so the tests run in parallel under pytest-xdist (every file has its own
Output directory under build/lit, and lit is told not to record test times in the shared timing file).
XFAIL tests (known bugs) pass while they keep failing; lit reports them as XPASS (an error) once they pass.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LIT_DIR = Path(__file__).resolve().parent.parent / "lit"
SUFFIXES = (".mlir", ".py")
# Mirrors config.excludes in test/lit/lit.cfg.py (plus lit's own output directories).
EXCLUDED = {"lit.cfg.py", "lit.site.cfg.py", "__pycache__", "Output", "Inputs"}


def lit_files() -> list[Path]:
    files = []
    for root, dirs, names in os.walk(LIT_DIR):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED and not d.startswith("."))
        files += [Path(root) / n for n in sorted(names)
                  if n.endswith(SUFFIXES) and n not in EXCLUDED and not n.startswith(".")]
    return files


def lit_command() -> list[str]:
    """lit from the running interpreter's environment (the wheels' tools are found by lit.cfg.py)."""
    script = Path(sys.executable).with_name("lit")
    if script.exists():
        return [str(script)]
    if shutil.which("lit"):
        return [shutil.which("lit")]
    return [sys.executable, "-c", "import sys, lit.main; sys.argv[0] = 'lit'; lit.main.main()"]


FILES = lit_files()


def test_lit_files_found():
    assert FILES, f"no lit tests under {LIT_DIR}"


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(LIT_DIR).as_posix() for p in FILES])
def test_lit(path: Path):
    pytest.importorskip("lit")
    cmd = lit_command() + ["-v", "-j1", "--skip-test-time-recording", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, (f"lit failed on {path.relative_to(LIT_DIR)} (exit {proc.returncode}):\n"
                                  f"$ {' '.join(cmd)}\n{output}")
    # lit exits 0 when it finds no test in the file (wrong suffix, excluded): that must not pass silently.
    assert "Total Discovered Tests: 1" in output, f"lit did not run {path} as a test:\n{output}"
