"""The sanitizer job in CI, on small models (scripts/sanitize.sh runs all the end-to-end models): the emulator,
the runtime and the emitted C built with ASan+UBSan and with TSan ($SWMLIR_EMU_CFLAGS, swmlir/runtime/build.py),
run with the sanitizers' default options, matched with onnxruntime."""
from __future__ import annotations

import json

import numpy as np
import pytest

import swmlir
from swmlir.testing import networks, sanitize


@pytest.mark.parametrize("sanitizer", sorted(sanitize.SANITIZERS))
@pytest.mark.parametrize("model", ["mlp", "lenet"])
def test_end_to_end_model_is_clean_under_sanitizer(model, sanitizer):
    ok, msg = sanitize.check_model(model, sanitizer)
    assert ok, msg


@pytest.mark.parametrize("sanitizer", sorted(sanitize.SANITIZERS))
def test_sanitizer_flags_reach_the_build(sanitizer, tmp_path, monkeypatch):
    """The program is linked with the sanitizer's runtime: the emulator sees it and leaves SIGSEGV to it."""
    monkeypatch.setenv("SWMLIR_EMU_CFLAGS", sanitize.SANITIZERS[sanitizer])
    stats = tmp_path / "stats.json"
    with swmlir.compile(networks.matmul(m=64, k=32, n=64)) as m:
        m.run([np.ones((64, 32), np.float32)], stats_json=str(stats))
    data = json.loads(stats.read_text())
    assert data["direct_access"] == "unguarded", data.get("direct_access")


def test_default_build_is_unchanged(monkeypatch):
    monkeypatch.delenv("SWMLIR_EMU_CFLAGS", raising=False)
    from swmlir.runtime.build import extra_emulator_cflags
    assert extra_emulator_cflags() == []
    monkeypatch.setenv("SWMLIR_EMU_CFLAGS", "-fsanitize=thread  -g")
    assert extra_emulator_cflags() == ["-fsanitize=thread", "-g"]
