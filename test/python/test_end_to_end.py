"""End to end: ONNX -> Sunway C -> host emulator, matched with onnxruntime (rtol 1e-4, atol 1e-5)."""
import json
import os

import numpy as np
import pytest

import swmlir
from swmlir.cli import onnxruntime_outputs
from swmlir.testing.networks import lenet, mlp

RTOL, ATOL = 1e-4, 1e-5


def _check(model, feeds, target="sw26010", **kw):
    m = swmlir.compile(model, target, **kw)
    got = m.run(feeds)
    ref = onnxruntime_outputs(model, feeds)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=RTOL, atol=ATOL)
    return m


@pytest.mark.parametrize("batch", [1, 3])
def test_lenet(batch, tmp_path):
    x = np.random.default_rng(batch).standard_normal((batch, 1, 28, 28)).astype(np.float32)
    m = _check(lenet(batch=batch), {"x": x})
    stats = tmp_path / "stats.json"
    m.run({"x": x}, stats_json=str(stats))
    data = json.loads(stats.read_text())
    launches = data["launches"]
    assert len(launches) >= len(m.kernels)  # every kernel ran on the CPEs
    assert data["totals"]["get_bytes"] > 0 and data["totals"]["put_bytes"] > 0
    assert all(l["ldm_peak_bytes"] <= m.target.ldm_bytes for l in launches)


@pytest.mark.parametrize("sizes,batch", [((784, 256, 128, 10), 4), ((37, 19, 5), 1)])
def test_mlp(sizes, batch):
    x = np.random.default_rng(7).standard_normal((batch, sizes[0])).astype(np.float32)
    _check(mlp(batch=batch, sizes=sizes), {"x": x})


def test_lenet_on_sw26010pro():
    x = np.random.default_rng(3).standard_normal((1, 1, 28, 28)).astype(np.float32)
    _check(lenet(), {"x": x}, target="sw26010pro")


def test_saved_files_read_as_sunway_code(tmp_path):
    m = swmlir.compile(lenet())
    m.save(str(tmp_path))
    host = (tmp_path / "model_host.c").read_text()
    slave = (tmp_path / "model_slave.c").read_text()
    for call in ("athread_init", "athread_spawn", "athread_join", "athread_halt"):
        assert call in host
    for call in ("athread_get(PE_MODE", "athread_put(PE_MODE", "swmlir_dma_wait", "athread_get_id(-1)"):
        assert call in slave
    assert (tmp_path / "model.weights.bin").stat().st_size >= 4 * (6 * 25 + 16 * 150 + 120 * 400)
    assert "sw5cc -slave" in (tmp_path / "Makefile").read_text()
    # no weight values are printed into the C sources
    assert os.path.getsize(tmp_path / "model_host.c") < 64 * 1024


def test_mobilenet_v2_style():
    from swmlir.testing.networks import mobilenet_v2
    x = np.random.default_rng(5).standard_normal((1, 3, 64, 64)).astype(np.float32)
    _check(mobilenet_v2(), {"x": x})


def test_transformer_encoder_block():
    from swmlir.testing.networks import transformer_encoder
    x = np.random.default_rng(6).standard_normal((1, 128, 256)).astype(np.float32)
    _check(transformer_encoder(), {"x": x})


def test_a_schedule_that_cannot_fit_in_ldm_is_an_error_naming_the_op():
    import dataclasses

    from swmlir.errors import ScheduleError
    from swmlir.targets import get_target
    tiny = dataclasses.replace(get_target("sw26010"), name="tiny", ldm_bytes=1024, ldm_reserved_bytes=1000)
    with pytest.raises(ScheduleError) as e:
        swmlir.compile(lenet(), tiny)
    msg = str(e.value)
    assert "schedule" in msg and "tiles" in msg and "LDM" in msg and "(node '" in msg
