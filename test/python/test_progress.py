"""swmlir.progress (displays only on a terminal or when asked) and `swmlir conformance`'s comparison with its
expected-pass list (a planted regression exits 1 and is named, a new pass is reported and exits 0)."""
import io
import subprocess
import sys

import onnx
import pytest

from swmlir import cli, compiler, conformance, progress
from swmlir.testing.networks import mlp


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def auto(monkeypatch):
    """The automatic choice, as outside pytest: no flag, no environment (pytest sets PYTEST_CURRENT_TEST again
    for the test's call, so it is removed by the test itself: outside())."""
    monkeypatch.setattr(progress, "_forced", None)
    monkeypatch.delenv(progress.ENV, raising=False)
    monkeypatch.delenv("TERM", raising=False)
    yield monkeypatch
    progress.configure(None)


def outside(monkeypatch):
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)


def test_on_only_on_a_terminal(auto):
    outside(auto)
    auto.setattr(sys, "stderr", io.StringIO())
    assert not progress.enabled()
    auto.setattr(sys, "stderr", _Terminal())
    assert progress.enabled()
    auto.setenv(progress.ENV, "0")
    assert not progress.enabled()
    progress.configure(True)    # --progress wins over the environment
    assert progress.enabled()
    progress.configure(False)   # --no-progress on a terminal
    assert not progress.enabled()


def test_off_in_tests(auto):
    auto.setattr(sys, "stderr", _Terminal())
    assert not progress.enabled()   # PYTEST_CURRENT_TEST is set
    auto.setenv(progress.ENV, "1")
    assert progress.enabled()


def test_off_draws_nothing(capsys):
    progress.configure(None)
    with progress.bar(3, "work", "items") as b:
        for _ in range(3):
            b.update()
            b.set_postfix("x")
        b.write("a line")
    out, err = capsys.readouterr()
    assert out == "a line\n" and err == ""


@pytest.mark.parametrize("plain", [False, True], ids=["tqdm", "plain"])
def test_on_draws_on_stderr(monkeypatch, plain):
    if plain:
        monkeypatch.setattr(progress, "_tqdm", None)
    err, out = _Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", out)
    with progress.bar(3, "work", "items", on=True) as b:
        b.update(2)
        b.write("FAILED x")
        b.set_postfix("2 passed")
        b.update()
    assert "work" in err.getvalue() and "3/3" in err.getvalue()
    assert out.getvalue() == "FAILED x\n"


def test_compile_reports_every_stage(monkeypatch, tmp_path):
    path = tmp_path / "mlp.onnx"
    onnx.save(mlp(), str(path))
    seen = []
    begin = progress.Stages.begin
    monkeypatch.setattr(progress.Stages, "begin", lambda self, name: (seen.append(name), begin(self, name)))
    compiler.compile(str(path), "sw26010")
    stages = [s for s in seen if s in compiler.COMPILE_STAGES]
    order = [compiler.COMPILE_STAGES.index(s) for s in stages]
    assert order == sorted(order), stages
    assert {"load", "import", "schedule", "sunway", "weights", "emit"} <= set(stages)


def test_weights_display_only_when_large(monkeypatch, tmp_path):
    from swmlir.analysis import weights
    path = tmp_path / "mlp.onnx"
    onnx.save(mlp(), str(path))
    made = []   # (total, on) of every weights display
    real = progress.bar

    def bar(total, desc="", unit="it", **kw):
        if desc == "weights":
            made.append((total, kw.get("on")))
        return real(total, desc, unit, **kw)
    monkeypatch.setattr(progress, "bar", bar)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    progress.configure(True)
    try:
        compiler.compile(str(path), "sw26010")
        assert made and made[0][0] > 0 and made[0][1] is False   # small weights: no display
        made.clear()
        monkeypatch.setattr(weights, "LARGE_WEIGHTS", 1)
        compiler.compile(str(path), "sw26010")
        assert made and made[0][1] is True
    finally:
        progress.configure(None)


def test_cli_output_unchanged_without_a_terminal(tmp_path):
    path = tmp_path / "mlp.onnx"
    onnx.save(mlp(), str(path))
    p = subprocess.run([sys.executable, "-m", "swmlir.cli", "compile", str(path), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


# --- swmlir conformance against an expected-pass list (the suite's run replaced by planted results)

PLANTED = {"test_a": ("passed", ""), "test_b": ("failed", "wrong result: output 0: max abs diff 1"),
           "test_c": ("passed", ""), "test_d": ("unsupported", "[import]: 1 node(s) use unsupported ops Foo")}


@pytest.fixture
def planted(monkeypatch):
    monkeypatch.setattr(conformance, "all_cases", lambda: dict.fromkeys(PLANTED))
    monkeypatch.setattr(conformance, "run_suite",
                        lambda names, on_result=None, **kw: {n: PLANTED[n] for n in names})


def _conformance(*argv):
    return cli.main(["conformance", "--quiet", *argv])


def test_compare():
    regressed, new = conformance.compare(PLANTED, {"test_a", "test_b", "test_d", "test_gone"})
    assert regressed == [("test_b", *PLANTED["test_b"]), ("test_d", *PLANTED["test_d"])]
    assert new == ["test_c"]


def test_planted_regression_exits_1_and_is_named(planted, tmp_path, capsys):
    lst = tmp_path / "expected.txt"
    lst.write_text("# target: sw26010\ntest_a\ntest_b\n")
    assert _conformance("--expected", str(lst)) == 1
    out = capsys.readouterr().out
    assert f"REGRESSED test_b (failed): {PLANTED['test_b'][1]}" in out
    assert "NEW PASS test_c" in out and "1 of its tests did not pass" in out
    assert out.splitlines()[-1] == "2 passed, 1 failed, 1 unsupported"


def test_new_pass_is_reported_exit_0(planted, tmp_path, capsys):
    lst = tmp_path / "expected.txt"
    lst.write_text("test_a\n")
    assert _conformance("--expected", str(lst), "--json", str(tmp_path / "c.json")) == 0
    out = capsys.readouterr().out
    assert "NEW PASS test_c" in out and "REGRESSED" not in out
    import json
    record = json.loads((tmp_path / "c.json").read_text())
    assert record["expected"]["new_passes"] == ["test_c"] and record["expected"]["regressed"] == []
    assert record["counts"] == {"passed": 2, "failed": 1, "unsupported": 1}


def test_filter_compares_only_the_tests_run(planted, tmp_path):
    lst = tmp_path / "expected.txt"
    lst.write_text("test_a\ntest_b\n")
    assert _conformance("--expected", str(lst), "--filter", "test_a") == 0


def test_write_expected(planted, tmp_path, capsys):
    lst = tmp_path / "expected.txt"
    assert _conformance("--write-expected", str(lst)) == 0
    names, target = conformance.read_expected(lst)
    assert names == {"test_a", "test_c"} and target == "sw26010"
    # with a filter, only the matching names change
    lst.write_text("test_b\ntest_x\n")
    assert _conformance("--write-expected", str(lst), "--filter", "test_[ab]") == 0
    assert conformance.read_expected(lst)[0] == {"test_a", "test_x"}


def test_the_committed_list():
    names, target = conformance.read_expected(conformance.EXPECTED)
    assert target == "sw26010" and len(names) > 1000
    assert all(n.startswith("test_") for n in names)
