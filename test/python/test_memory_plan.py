"""The static memory plan (swmlir/analysis/memory_plan.py): live ranges from the first op that touches a buffer,
offsets by greedy first fit over several orders; on a transformer the arena stays at one layer's working set."""
import itertools
import re

import numpy as np
from mlir import ir

import swmlir
from swmlir.cli import onnxruntime_outputs
from swmlir.analysis.memory_plan import ALIGN, Buffer, _place, assign, live_ranges, lower_bound, orders, plan
from swmlir.compiler import new_context
from swmlir.passes._util import memref_bytes
from swmlir.testing import networks

U = ALIGN


def _buffers(spec):
    return [Buffer(i, size * U, first, last) for i, (size, first, last) in enumerate(spec)]


def _check_disjoint(bs):
    for a, b in itertools.combinations(bs, 2):
        assert a.offset % ALIGN == 0 and b.offset % ALIGN == 0
        if a.first <= b.last and b.first <= a.last:
            assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)


def _optimum(bs):
    """Exhaustive: first fit in the order of an optimal plan's offsets reproduces that plan, so the least arena
    over every order is the optimum."""
    return min(_place(bs, lambda b, rank={id(b): i for i, b in enumerate(p)}: rank[id(b)])
               for p in itertools.permutations(bs))


def test_a_layer_chain_with_a_residual_packs_to_its_peak():
    """Sizes in 128-byte units: temporaries A..E of one or two units, each live over two launches, a residual R over
    all six. At most 4 units are live at once (R + a 2 + a 1), and 4 is reached: A, C, E share [1, 3), B and D
    [3, 4), R [0, 1). The sum is 9 units; an arena that counts every buffer from the top needs all 9."""
    bs = _buffers([(2, 0, 1), (1, 1, 2), (2, 2, 3), (1, 3, 4), (2, 4, 5), (1, 0, 5)])
    assert lower_bound(bs) == 4 * U
    assert assign(bs) == 4 * U == _optimum(bs)
    _check_disjoint(bs)
    assert sum(b.size for b in bs) == 9 * U


def test_fragmentation_that_largest_first_leaves_is_avoided():
    """A case where largest-first first fit leaves a hole: the optimum is the peak, 10 units at position 6 (3 + 3 +
    4); the plan tries other orders and reaches it."""
    bs = _buffers([(3, 6, 9), (2, 1, 1), (3, 0, 3), (3, 4, 6), (4, 6, 8), (3, 3, 5)])
    assert _optimum(bs) == lower_bound(bs) == 10 * U
    assert _place(bs, orders(bs)["size"]) > 10 * U
    assert assign(bs) == 10 * U
    _check_disjoint(bs)


def test_random_cases_are_optimal_and_never_overlap():
    rng = np.random.default_rng(0)
    for _ in range(40):
        spec = []
        for _ in range(6):
            f = int(rng.integers(0, 7))
            spec.append((int(rng.integers(1, 5)), f, f + int(rng.integers(0, 4))))
        bs = _buffers(spec)
        arena = assign(bs)
        _check_disjoint(bs)
        assert lower_bound(bs) <= arena <= sum(b.size for b in bs)
        assert max(b.offset + b.size for b in bs) == arena
    assert assign([]) == 0


HOST = """
func.func @main(%x: memref<256xf32>, %y: memref<256xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<2x128xf32>
  %dead = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  %px = memref.extract_aligned_pointer_as_index %x : memref<256xf32> -> index
  %pa = memref.extract_aligned_pointer_as_index %a : memref<256xf32> -> index
  %pb = memref.extract_aligned_pointer_as_index %b : memref<256xf32> -> index
  "sunway.spawn"(%px, %pa) {kernel = @k0} : (index, index) -> ()
  "sunway.join"() : () -> ()
  "sunway.spawn"(%pa, %pb) {kernel = @k1} : (index, index) -> ()
  "sunway.join"() : () -> ()
  %cv = memref.collapse_shape %c [[0, 1]] : memref<2x128xf32> into memref<256xf32>
  %pc = memref.extract_aligned_pointer_as_index %cv : memref<256xf32> -> index
  "sunway.spawn"(%pb, %pc) {kernel = @k2} : (index, index) -> ()
  "sunway.join"() : () -> ()
  memref.copy %cv, %y : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  return
}
"""


def test_live_ranges_start_where_a_launch_first_touches_the_buffer():
    """The allocations stand together at the top, as bufferization leaves them on a transformer: a buffer lives
    from the first launch that gets its address (through views) to the join after the last, or to a copy; the
    dealloc and the extract ops touch nothing. a dies at k1's join before c is first written, so they share."""
    with new_context() as ctx, ir.Location.unknown(ctx):
        module = ir.Module.parse(HOST)
        block = module.body.operations[0].regions[0].blocks[0]
        ops = [o.operation for o in block.operations]
        names = [o.name for o in ops]
        spawns = [i for i, n in enumerate(names) if n == "sunway.spawn"]
        copy = names.index("memref.copy")
        ranges = [(b.first, b.last) for b in live_ranges(block, memref_bytes)]
        assert ranges == [(spawns[0], spawns[1] + 1), (spawns[1], spawns[2] + 1), (spawns[2], copy), (3, 3)]
        offsets, arena, total = plan(block, memref_bytes)
        allocs = [o for o in ops if o.name == "memref.alloc"]
        assert total == 4 * 1024 and arena == 2 * 1024
        assert offsets[allocs[0]] == offsets[allocs[2]] != offsets[allocs[1]]


def _run_and_match(model, x):
    m = swmlir.compile(model, "sw26010")
    got = m.run({"x": x})
    ref = onnxruntime_outputs(model, {"x": x})
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-5)
    return m


def test_a_small_bert_shares_its_arena_across_layers_and_matches_onnxruntime():
    """Two post-LN layers (hidden 32, 2 heads, FFN 64, sequence 16): the arena is five [16, 32] buffers, one
    layer's working set (it was 71 % of the intermediates when buffers lived from their allocation); the C on
    the emulator matches onnxruntime with the shared slots, each registered with the emulator at its first launch
    (so a DMA outside the live slot's bytes is caught)."""
    model = networks.bert_encoder(layers=2, seq=16, hidden=32, heads=2, ffn=64)
    x = np.random.default_rng(0).standard_normal((1, 16, 32)).astype(np.float32)
    m = _run_and_match(model, x)
    assert m.arena_bytes <= 0.2 * m.intermediate_bytes, (m.arena_bytes, m.intermediate_bytes)
    assert m.arena_bytes == 5 * 16 * 32 * 4
    host = m.files["model_host.c"]
    launches = host.split("athread_join();")
    registered = [re.findall(r'"intermediate [^"]*"', part) for part in launches]
    assert sum(map(len, registered)) >= len(m.kernels) - 1   # about one new slot per launch
    assert all(len(r) <= 3 for r in registered)              # none registered long before its launch


def test_a_small_vit_matches_onnxruntime_with_a_shared_arena():
    """Patch embedding, class token, two pre-LN layers, head (17 tokens of 32): the arena below a fifth of the
    intermediates (58 % before)."""
    model = networks.vit(layers=2, image=32, patch=8, hidden=32, heads=2, ffn=64, classes=10)
    x = np.random.default_rng(1).standard_normal((1, 3, 32, 32)).astype(np.float32)
    m = _run_and_match(model, x)
    assert m.arena_bytes <= 0.2 * m.intermediate_bytes, (m.arena_bytes, m.intermediate_bytes)
