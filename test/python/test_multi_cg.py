"""All core groups of a chip (issue 11, item 2): `--cgs N` deals every kernel's work items over N x 64 CPEs
(global CPE id = CG * 64 + CPE), the host spawns on every CG (athread_spawn_cgs), the emulator runs the CGs and
counts each apart, and the performance model charges each CG's DMA to its own memory controller. Results match
onnxruntime; with the default (one CG) every output stays what it was."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

import swmlir
from swmlir.testing import networks
from swmlir.cli import onnxruntime_outputs
from swmlir.errors import CompileError
from swmlir.targets import get_target, with_cgs


pytestmark = pytest.mark.usefixtures("runtime_cache")


def conv_model(n=1, c=8, h=20, w=20, f=16) -> onnx.ModelProto:
    return networks.conv_relu(n, c, h, w, f)


def matmul_model(m=256, k=96, n=128) -> onnx.ModelProto:
    return networks.matmul(m, k, n)


def _feeds(model: onnx.ModelProto) -> dict:
    rng = np.random.default_rng(7)
    out = {}
    for i in model.graph.input:
        shape = [d.dim_value for d in i.type.tensor_type.shape.dim]
        out[i.name] = rng.standard_normal(shape).astype(np.float32)
    return out


def _check(model, outs, feeds):
    ref = onnxruntime_outputs(model, feeds)
    for got, want in zip(outs, ref):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(want).max())))


def cli(*args):
    return subprocess.run([sys.executable, "-m", "swmlir.cli", *args], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])


# ------------------------------------------------------------------------------ results against onnxruntime
@pytest.mark.parametrize("target,cgs", [("sw26010", 4), ("sw26010pro", 6)])
@pytest.mark.parametrize("name,make", [("conv", lambda: conv_model(c=16, h=32, w=32, f=32)),
                                       ("matmul", matmul_model)])
def test_multi_cg_matches_onnxruntime_with_per_cg_counters(target, cgs, name, make, tmp_path):
    """The emitted C for N core groups on the emulator matches onnxruntime; every launch has one record per CG,
    each CG moved bytes (the items are spread), and the records add up to the launch's totals."""
    model = make()
    m = swmlir.compile(model, target, cgs=cgs)
    assert m.target.cgs == cgs and m.target.name == f"{target}:cgs{cgs}"
    host, slave = m.files["model_host.c"], m.files["model_slave.c"]
    assert f"#define SWMLIR_CGS {cgs}" in host and "athread_init_cgs();" in host
    assert "athread_spawn_cgs(" in host and "athread_join_cgs();" in host
    assert re.search(r"\bathread_spawn\(", host) is None
    assert ("CRTS_cgn" in slave) if target == "sw26010pro" else ("swmlir_cg_id()" in slave)
    feeds = _feeds(model)
    stats = tmp_path / "stats.json"
    with m:
        outs = m.run(feeds, stats_json=str(stats))
    _check(model, outs, feeds)
    launches = json.loads(stats.read_text())["launches"]
    assert launches
    for launch in launches:
        per_cg = launch["cgs"]
        assert [r["cg"] for r in per_cg] == list(range(cgs))
        for key in ("get_requests", "put_requests", "get_bytes", "put_bytes"):
            assert sum(r[key] for r in per_cg) == launch[key], key
        assert launch["max_cpe_dma_bytes"] == max(r["max_cpe_dma_bytes"] for r in per_cg)
        assert sum(r["active_cpes"] for r in per_cg) == launch["active_cpes"]
        blocks: dict = {}
        for r in per_cg:
            for b, c in r["block_sizes"].items():
                blocks[b] = blocks.get(b, 0) + c
        assert blocks == launch["block_sizes"]
    main = max(launches, key=lambda l: l["put_bytes"])
    # 256 or more work items here: at least 4 CGs write part of the output
    assert sum(r["put_bytes"] > 0 for r in main["cgs"]) >= 4, [r["put_bytes"] for r in main["cgs"]]


def test_cli_run_cgs_all_check(tmp_path):
    """`swmlir run M --cgs all --check` (every CG of sw26010pro: 6) against onnxruntime."""
    path = tmp_path / "conv.onnx"
    onnx.save(conv_model(), str(path))
    p = cli("run", str(path), "--target", "sw26010pro", "--cgs", "all", "--check")
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"check y: max \|swmlir - onnxruntime\| = \S+ \(OK", p.stdout + p.stderr), p.stdout + p.stderr


def test_tiles_shared_over_each_cg_mesh():
    """sunway-share-tiles still shares over the rows/columns of each CG's mesh on several CGs (SW26010), and
    the result stays right."""
    model = matmul_model(m=512, k=256, n=256)
    m = swmlir.compile(model, "sw26010", cgs=4)
    one = swmlir.compile(model, "sw26010")
    if "swmlir_mesh_allgather" not in one.files["model_slave.c"]:
        pytest.skip("the single-CG schedule shares no tile for this product")
    assert "swmlir_mesh_allgather" in m.files["model_slave.c"]
    feeds = _feeds(model)
    with m:
        _check(model, m.run(feeds), feeds)


# ------------------------------------------------------------------------------ the performance model
def test_modeled_time_on_four_cgs_lower_on_a_large_conv(tmp_path):
    """A conv of 64 channels at 56x56: modeled faster on 4 CGs than on one, the split's efficiency reported
    (one CG's time over 4 x the 4-CG time) and consistent with the two figures."""
    from swmlir.bench import bench
    path = tmp_path / "conv.onnx"
    onnx.save(conv_model(c=64, h=56, w=56, f=64), str(path))
    r4 = bench(str(path), target="sw26010", repeat=1, cgs=4)
    r1 = bench(str(path), target="sw26010", repeat=1)
    t4, t1 = r4["modeled"]["seconds"], r1["modeled"]["seconds"]
    assert t4 < t1
    mc = r4["multi_cg"]
    assert r4["cgs"] == 4 and mc["cgs"] == 4
    assert mc["one_cg_seconds"] == pytest.approx(t1)
    assert mc["efficiency"] == pytest.approx(t1 / (4 * t4))
    assert 0 < mc["efficiency"] <= 1.0
    assert "of the peak of 4 core groups" in r4["modeled"]["summary"]
    assert "cgs" not in r1 and "multi_cg" not in r1


def test_launch_dma_is_the_slowest_cg():
    """Each CG's DMA is charged to its own memory controller: a launch takes its slowest CG's DMA time."""
    from swmlir.sim.dma import dma_seconds
    from swmlir.sim.model import launch_dma_seconds
    tgt = with_cgs("sw26010", 2)
    fast = {"block_sizes": {"2048": 64}, "max_cpe_dma_bytes": 2048}
    slow = {"block_sizes": {"2048": 640}, "max_cpe_dma_bytes": 20480}
    launch = {"block_sizes": {"2048": 704}, "max_cpe_dma_bytes": 20480, "cgs": [fast, slow]}
    assert launch_dma_seconds(launch, tgt) == pytest.approx(dma_seconds(slow["block_sizes"], 20480, 64, tgt))
    one = {"block_sizes": {"2048": 64}, "max_cpe_dma_bytes": 2048}
    assert launch_dma_seconds(one, get_target("sw26010")) == pytest.approx(
        dma_seconds(one["block_sizes"], 2048, 64, get_target("sw26010")))


# ------------------------------------------------------------------------------ the default stays as it was
def test_default_output_unchanged():
    """cgs=1 is the table's target itself: the same files, byte for byte, as without the option."""
    model = conv_model()
    a = swmlir.compile(model, "sw26010")
    b = swmlir.compile(model, "sw26010", cgs=1)
    assert a.target is b.target is get_target("sw26010")
    assert a.files == b.files
    assert "_cgs" not in a.files["model_host.c"] and "cg_id" not in a.files["model_slave.c"]


def test_cgs_values():
    assert with_cgs("sw26010", "all").cgs == 4
    assert with_cgs("sw26010pro", "all").cgs == 6
    assert get_target("sw26010pro:cgs3").cpes == 192
    for bad in (0, 5, "many"):
        with pytest.raises(CompileError):
            with_cgs("sw26010", bad)
