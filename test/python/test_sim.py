"""The performance model on hand-computed cases: DMA from a histogram, compute from a kernel's loops."""
import math

import pytest
from mlir import ir

from swmlir.sim import model_kernel
from swmlir.sim.constants import cpe_constants
from swmlir.sim.dma import bandwidth, dma_seconds
from swmlir.sim.mix import kernel_mix
from swmlir.targets import TARGETS

SW = TARGETS["sw26010"]


def test_bandwidth_is_the_measured_curve_at_its_points_and_interpolated_between():
    assert bandwidth(2048, SW.dma_curve) == pytest.approx(15321e6)
    # halfway between 1 KB and 2 KB in log2: halfway between their bandwidths
    assert bandwidth(int(1024 * math.sqrt(2)), SW.dma_curve) == pytest.approx((12536e6 + 15321e6) / 2, rel=1e-3)
    # below the first point a block costs the same as an 8-byte one; above the last the curve is flat
    assert bandwidth(4, SW.dma_curve) == pytest.approx(466e6 / 2)
    assert bandwidth(1 << 20, SW.dma_curve) == pytest.approx(20423e6)


def test_dma_seconds_of_a_balanced_and_an_imbalanced_launch():
    hist = {"2048": 1000, "256": 4000}           # 2 MB in 2 KB blocks, 1 MB in 256 B blocks
    total = 2048 * 1000 + 256 * 4000
    t = 2048 * 1000 / 15321e6 + 256 * 4000 / 5985e6
    assert dma_seconds(hist, total // 64, 64, SW) == pytest.approx(t)
    # one CPE moves everything: it gets 1/64 of the bandwidth
    assert dma_seconds(hist, total, 64, SW) == pytest.approx(64 * t)


def _kernel(text: str) -> ir.Operation:
    from swmlir.dialects import load_sunway_dialect
    ctx = ir.Context()
    load_sunway_dialect(ctx)
    with ctx:
        m = ir.Module.parse(text)
        return m, [op.operation for op in m.body.operations][0]


def test_mix_of_a_scalar_reduction_is_bound_by_its_chain_through_ldm():
    # 64 work items over 64 CPEs: one each; 100 iterations of load, load, mul, load, add, store on one element
    m, k = _kernel("""
    func.func private @k(%a: memref<100xf32>, %b: memref<100xf32>, %c: memref<1xf32>) attributes {sunway.kernel} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c64 = arith.constant 64 : index
      %c100 = arith.constant 100 : index
      %id = "sunway.cpe_id"() : () -> index
      scf.for %w = %id to %c64 step %c64 {
        scf.for %i = %c0 to %c100 step %c1 {
          %x = memref.load %a[%i] : memref<100xf32>
          %y = memref.load %b[%i] : memref<100xf32>
          %p = arith.mulf %x, %y : f32
          %o = memref.load %c[%c0] : memref<1xf32>
          %s = arith.addf %o, %p : f32
          memref.store %s, %c[%c0] : memref<1xf32>
        }
      }
      return
    }""")
    c = cpe_constants(SW)
    mix = kernel_mix(k, c, 64, 4)
    assert (mix.scalar_mem, mix.scalar_fp, mix.vector_fma) == (400, 200, 0)
    # per iteration: issue needs max(2 FP, 4 mem + 2 loop) = 6 cycles; the chain load -> add -> store -> load
    # needs ldm_latency (load to add) + fp_latency (add to store) + 1 (store to the next load); and within the
    # iteration the store issues only after load -> mul -> add: ldm_latency + 2 fp_latency, then its own cycle
    chain = c.ldm_latency + c.fp_latency + 1
    path = c.ldm_latency + 2 * c.fp_latency + 1
    assert path > chain > 6
    assert mix.cycles == pytest.approx(100 * path + 2)   # + the work-item loop's own overhead
    assert mix.chain_bound_cycles == pytest.approx(100 * path)


def test_mix_of_a_register_blocked_loop_is_bound_by_issue():
    # 4 accumulators carried through 256 iterations: per iteration 2 vector loads and 4 FMAs
    m, k = _kernel("""
    func.func private @k(%a: memref<256x8xf32>) attributes {sunway.kernel} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c4 = arith.constant 4 : index
      %c256 = arith.constant 256 : index
      %z = arith.constant dense<0.0> : vector<4xf32>
      %r:4 = scf.for %i = %c0 to %c256 step %c1 iter_args(%p = %z, %q = %z, %s = %z, %t = %z) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>) {
        %x = vector.load %a[%i, %c0] : memref<256x8xf32>, vector<4xf32>
        %y = vector.load %a[%i, %c4] : memref<256x8xf32>, vector<4xf32>
        %p2 = vector.fma %x, %y, %p : vector<4xf32>
        %q2 = vector.fma %y, %x, %q : vector<4xf32>
        %s2 = vector.fma %x, %x, %s : vector<4xf32>
        %t2 = vector.fma %y, %y, %t : vector<4xf32>
        scf.yield %p2, %q2, %s2, %t2 : vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>
      }
      return
    }""")
    c = cpe_constants(SW)
    mix = kernel_mix(k, c, 64, 4)
    assert (mix.vector_fma, mix.vector_mem) == (1024, 512)
    # issue: max(4 FMA, 2 unaligned loads of 2 slots + 2 loop) = 6; the chain of one accumulator: one FMA =
    # fp_latency = 7, which bounds the iteration
    assert 2 * c.unaligned_vector_access + 2 < c.fp_latency
    assert mix.cycles == pytest.approx(256 * max(4, 2 * c.unaligned_vector_access + 2, c.fp_latency))


def test_a_broadcast_load_is_one_ldm_load_and_a_horizontal_sum_is_charged_as_the_helper_runs():
    m, k = _kernel("""
    func.func private @k(%a: memref<64x8xf32, 2>, %o: memref<64xf32, 2>) attributes {sunway.kernel} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c4 = arith.constant 4 : index
      %c64 = arith.constant 64 : index
      scf.for %i = %c0 to %c64 step %c1 {
        %x = vector.load %a[%i, %c4] : memref<64x8xf32, 2>, vector<4xf32>
        %e = memref.load %a[%i, %c0] : memref<64x8xf32, 2>
        %b = vector.broadcast %e : f32 to vector<4xf32>
        %p = vector.fma %x, %b, %x : vector<4xf32>
        %t = vector.reduction <add>, %p : vector<4xf32> into f32
        memref.store %t, %o[%i] : memref<64xf32, 2>
      }
      return
    }""")
    c = cpe_constants(SW)
    mix = kernel_mix(k, c, 64, 4)
    assert (mix.vector_fma, mix.vector_other, mix.vector_sums, mix.scalar_mem) == (64, 0, 64, 128)
    lanes = c.vector_lanes
    # P1: the vector load (2 slots), simd_loade (1), the store of C (1), the sum's store (2) and lane loads, the
    # loop (2); P0: the FMA and the sum's lane adds; then the sum's chain of adds, not overlapped
    p1 = 2 * c.unaligned_vector_access + 1 + 1 + lanes + c.loop_overhead
    p0 = 1 + lanes
    assert mix.cycles == pytest.approx(64 * (max(p0, p1) + lanes * c.fp_latency))


def test_flops_of_a_conv_computed_on_zero_taps_and_columns_are_the_convs():
    """A 3x3 stride-2 Conv on a width of 7 runs on column phases with a zero tap and a width of 8: the modeled
    flops stay 2 * F * OH * OW * C * KH * KW, those of the ONNX op."""
    import numpy as np
    import swmlir
    from swmlir.testing.models import single_node
    w = np.ones((8, 4, 3, 3), np.float32)
    m = swmlir.compile(single_node("Conv", {"x": (1, 4, 14, 14)}, opset=13, initializers={"w": w},
                                   kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), target="sw26010")
    conv = [s for s in m.kernel_stats if s.contraction]
    assert sum(s.flops for s in conv) == 2 * 8 * 7 * 7 * 4 * 3 * 3


def test_kernel_time_adds_dma_and_compute_without_double_buffering():
    c = cpe_constants(SW)
    launch = {"block_sizes": {"4096": 1000}, "max_cpe_dma_bytes": 4096 * 1000 // 64, "get_bytes": 4096 * 1000,
              "put_bytes": 0}
    mix = {"cycles": 1.45e6, "chain_bound_cycles": 0.0}      # 1 ms at 1.45 GHz
    t = model_kernel("k", [launch], flops=742_400_000, mix=mix, target=SW)
    dma = 4096 * 1000 / 18393e6
    assert t.dma_seconds == pytest.approx(dma)
    assert t.compute_seconds == pytest.approx(1e-3)
    assert t.seconds == pytest.approx(dma + 1e-3 + c.spawn_seconds)
    assert t.percent_of_peak == pytest.approx(100 * 1e-3 / t.seconds)
    assert t.bound == "compute"
    # double-buffered over 4 steps, no puts: the first step's gets are exposed, later ones hide under compute
    db = {**mix, "double_buffered_steps": 4}
    launch2 = {**launch, "get_bytes": 4096 * 1000, "put_bytes": 0}
    overlapped = model_kernel("k", [launch2], flops=742_400_000, mix=db, target=SW)
    assert overlapped.overlap
    assert overlapped.seconds == pytest.approx(dma / 4 + max(dma, 1e-3) * 3 / 4 + 1e-3 / 4 + c.spawn_seconds)


def test_streamed_puts_hide_at_most_the_compute_after_the_first_half_and_half_the_puts():
    c = cpe_constants(SW)
    # all DMA is puts of 4 KB blocks: 1000 of them, 4096 * 1000 / 18393e6 s at the curve's 4 KB point
    launch = {"block_sizes": {"4096": 1000}, "put_block_sizes": {"4096": 1000}, "max_cpe_dma_bytes": 4096 * 1000 // 64,
              "get_bytes": 0, "put_bytes": 4096 * 1000}
    put = 4096 * 1000 / 18393e6
    base = {"cycles": 1.45e6, "chain_bound_cycles": 0.0, "put_ops": 2}
    plain = model_kernel("k", [launch], flops=1, mix={**base, "streamed_puts": 0}, target=SW)
    assert plain.seconds == pytest.approx(put + 1e-3 + c.spawn_seconds)
    # 10 us of compute after the first half's put: 10 us hidden
    few = model_kernel("k", [launch], flops=1, mix={**base, "streamed_puts": 2, "streamed_cycles": 14500}, target=SW)
    assert few.seconds == pytest.approx(put + 1e-3 + c.spawn_seconds - 10e-6)
    # plenty of compute after it: half the puts' time hidden, the second half's put stays exposed
    lots = model_kernel("k", [launch], flops=1, mix={**base, "streamed_puts": 2, "streamed_cycles": 1.45e6},
                        target=SW)
    assert lots.seconds == pytest.approx(put / 2 + 1e-3 + c.spawn_seconds)
    # a kernel with other puts besides the halves: nothing hidden (the puts' time is not theirs alone)
    mixed = model_kernel("k", [launch], flops=1, mix={**base, "put_ops": 3, "streamed_puts": 2,
                                                      "streamed_cycles": 1.45e6}, target=SW)
    assert mixed.seconds == pytest.approx(plain.seconds)


def test_direct_accesses_are_charged_latency_or_bandwidth_and_never_overlap():
    from swmlir.sim.direct import direct_access_seconds
    c = cpe_constants(SW)
    # one CPE, 1000 loads: 120 cycles each, one after another
    lone = {"gld_requests": 1000, "gst_requests": 0, "max_cpe_direct_requests": 1000}
    assert direct_access_seconds([lone], SW) == pytest.approx(1000 * 120 / c.clock_hz)
    # 64 CPEs, 1000 each: the 1.5 GB/s of the core group, 8 bytes a request, is the limit
    all64 = {"gld_requests": 64 * 800, "gst_requests": 64 * 200, "max_cpe_direct_requests": 1000}
    assert direct_access_seconds([all64], SW) == pytest.approx(64 * 1000 * 8 / 1.5e9)
    assert 64 * 1000 * 8 / 1.5e9 > 1000 * 120 / c.clock_hz
    assert direct_access_seconds([{"gld_requests": 0}], SW) == 0.0
    # added to the memory time, outside the overlap of a double-buffered kernel
    launch = {"block_sizes": {"4096": 1000}, "max_cpe_dma_bytes": 4096 * 1000 // 64, "get_bytes": 4096 * 1000,
              "put_bytes": 0}
    mix = {"cycles": 1.45e6, "chain_bound_cycles": 0.0, "double_buffered_steps": 4}
    plain = model_kernel("k", [launch], flops=1, mix=mix, target=SW)
    with_direct = model_kernel("k", [{**launch, **all64}], flops=1, mix=mix, target=SW)
    d = direct_access_seconds([all64], SW)
    assert with_direct.direct_seconds == pytest.approx(d)
    assert with_direct.seconds == pytest.approx(plain.seconds + d)
    assert with_direct.dma_seconds == pytest.approx(plain.dma_seconds + d)


def test_peak_follows_the_cpe_rate():
    c = cpe_constants(SW)
    assert 64 * c.clock_hz * 2 * SW.simd_f32_lanes * c.vector_fma_per_cycle / 1e9 == pytest.approx(
        SW.peak_gflops_per_cg)
    pro = TARGETS["sw26010pro"]
    cp = cpe_constants(pro)
    assert 64 * cp.clock_hz * 2 * pro.simd_f32_lanes / 1e9 == pytest.approx(pro.peak_gflops_per_cg)


def test_mesh_allgather_is_charged_its_transfers_at_the_register_bus_share():
    from swmlir.sim.mix import allgather_cycles
    c = cpe_constants(SW)
    # an 8x512 f32 tile (16 KB): each CPE sends 2 KB (64 transfers: unaligned load + putr) and receives 7 x 2 KB
    # (448 transfers: getr + unaligned store), at most 637 GB/s / 64 per CPE; 8 roots pay the 11-cycle latency
    cycles, received = allgather_cycles(16384, c)
    assert received == 7 * 2048
    p1 = 64 * 3 + 448 * 3
    rate = 7 * 2048 / (637e9 / 64 / 1.45e9)
    assert cycles == pytest.approx(max(p1, rate) + 8 * 11)
    assert rate > p1   # the bus share, not the issue slots, is the limit


def test_shared_tiles_run_on_the_emulator_and_match_the_static_mix(tmp_path):
    """A MatMul whose A panel the CPEs of a mesh row share: fetched in eighths, gathered by register
    communication; the emulator's mesh bytes are what the kernel's static mix says, times the 64 CPEs, and
    the emitted code computes the product."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from swmlir.bench import bench
    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((256, 128)).astype(np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "mm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [128, 256])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [128, 128])], [w])
    path = tmp_path / "mm.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    r = bench(str(path), target="sw26010", repeat=1)
    (k,) = r["kernels"]
    assert k["mesh_bytes"] > 0 and k["mix"]["mesh_bytes"] > 0
    assert k["mesh_bytes"] == 64 * k["mix"]["mesh_bytes"]
    # every byte of x and w crosses the memory controller once per mesh row or column that needs it, not per CPE
    assert k["get_bytes"] + k["put_bytes"] == k["dma_planned_bytes"]
    assert k["get_bytes"] < 8 * (128 * 256 + 256 * 128) * 4
    import swmlir
    x = np.random.default_rng(1).standard_normal((128, 256)).astype(np.float32)
    (y,) = swmlir.compile(onnx.load(path), target="sw26010").run([x])
    np.testing.assert_allclose(y, x @ numpy_helper.to_array(w), rtol=1e-4, atol=1e-4)


_ELEMENTWISE = """
    func.func private @k(%a: memref<64xf32>, %b: memref<64xf32>) attributes {sunway.kernel} {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c64 = arith.constant 64 : index
      %zero = arith.constant 0.0 : f32
      scf.for %i = %c0 to %c64 step %c1 {
        %x = memref.load %a[%i] : memref<64xf32>
        %y = arith.maximumf %x, %zero : f32
        memref.store %y, %b[%i] : memref<64xf32>
      }
      return
    }"""


def test_an_in_order_cpe_waits_on_the_latency_path_of_each_iteration():
    # a ReLU over 64 elements: per iteration 1 FP op, 2 LDM accesses, 2 loop instructions (issue: 4 cycles on
    # P1), but the store issues only when the max is ready: load (4) + max (7), then the store's own cycle
    m, k = _kernel(_ELEMENTWISE)
    c = cpe_constants(SW)
    mix = kernel_mix(k, c, 64, 4)
    path = c.ldm_latency + c.fp_latency + 1
    assert path > 4
    assert mix.cycles == pytest.approx(64 * path)
    assert mix.chain_bound_cycles == pytest.approx(64 * path)


def test_unrolling_a_latency_bound_loop_interleaves_its_chains():
    # sunway-unroll-latency-bound: the smallest power of two that brings issue up to the path (4 x 4 >= 12);
    # then 16 iterations of 4 independent chains, each iteration issue-bound
    from swmlir.passes.unroll_latency_bound import unroll_latency_bound
    m, k = _kernel(_ELEMENTWISE)
    c = cpe_constants(SW)
    with m.context:
        unroll_latency_bound(m.operation, target="sw26010")
    loops = [o for o in k.regions[0].blocks[0].operations if o.operation.name == "scf.for"]
    assert len(loops) == 1
    body = loops[0].regions[0].blocks[0]
    assert sum(o.operation.name == "arith.maximumf" for o in body.operations) == 4
    mix = kernel_mix(k, c, 64, 4)
    issue = 4 * 2 + 3 + 2    # 8 LDM accesses, the 3 copies' index adds and the loop's 2, on P1
    path = 1 + c.ldm_latency + c.fp_latency + 1   # index add -> load -> max -> the store's issue
    assert mix.cycles == pytest.approx(16 * max(issue, path))
    assert mix.cycles < 64 * (c.ldm_latency + c.fp_latency + 1) / 2
