"""The static instruction mix of a CPE kernel and the cycles it needs on the busiest CPE.

Read off the kernel after its linalg ops became loops (scf.for, memref/vector loads and stores, arith, math) and
before EmitC: every loop bound is static, except the work-item loop, which starts at the CPE id; CPE 0 runs the
most work items, so its trip count is ceil(items / CPEs). Per block, cycles = max(P0 issue, P1 issue, the
loop-carried latency chain) + the cycles of the loops nested in it, times the trip count:
  P0: vector FMAs and scalar FP instructions, divides and square roots (not pipelined), libm calls;
  P1: LDM loads and stores (scalar or vector; a load broadcast to all lanes is one simd_loade), integer
      instructions, loop overhead;
  the chain: the longest latency path around an iteration (an accumulator in iter_args, or an LDM element
  loaded and stored back at loop-invariant indices), which an in-order CPE cannot hide.
Address arithmetic implied by a multi-dimensional load is not counted (the C compiler strength-reduces it).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from mlir import ir

from ..attrs import STREAMED_ATTR
from ..passes._util import constant_int, is_work_item_start, memref_bytes, splatted_load
from .constants import CPEConstants

_FP = {"arith.addf", "arith.subf", "arith.mulf", "arith.negf", "arith.maximumf", "arith.minimumf", "arith.maxnumf",
       "arith.minnumf", "arith.cmpf", "arith.select", "math.absf", "math.fma", "arith.extf", "arith.truncf",
       "arith.sitofp", "arith.uitofp", "arith.fptosi", "arith.fptoui", "math.floor", "math.ceil", "math.copysign",
       "math.round", "math.roundeven", "math.trunc"}
_SLOW_FP = {"arith.divf", "math.sqrt", "math.rsqrt", "arith.remf"}
_LIBM_PREFIX = "math."
_VEC_FMA = {"vector.fma"}
_VEC_FP = {"vector.broadcast"}
_MEM = {"memref.load", "memref.store"}
_VEC_MEM = {"vector.load", "vector.store"}
_INT_DIV = {"arith.divsi", "arith.divui", "arith.remsi", "arith.remui", "arith.floordivsi", "arith.ceildivsi",
            "arith.ceildivui"}
_FREE = {"arith.constant", "scf.yield", "memref.subview", "memref.collapse_shape", "memref.expand_shape",
         "memref.alloca", "memref.alloc", "memref.dealloc", "sunway.ldm_alloc", "sunway.reply", "sunway.cpe_id",
         "sunway.cg_id", "sunway.cpe_row", "sunway.cpe_col", "func.return", "memref.extract_aligned_pointer_as_index",
         "memref.cast", "memref.reinterpret_cast"}


@dataclass
class Mix:
    """Instructions of the busiest CPE over one launch, and its cycles."""
    vector_fma: int = 0
    vector_other: int = 0        # broadcasts
    vector_sums: int = 0         # horizontal sums (swmlir_fN_sum: a vector store, lane loads, a chain of adds)
    vector_mem: int = 0
    scalar_fp: int = 0
    slow_fp: int = 0
    libm: int = 0
    scalar_mem: int = 0
    int_ops: int = 0
    int_div: int = 0
    loop_iterations: int = 0
    dma_ops: int = 0             # sunway.dma_get/put issued (each may be several requests)
    mesh_bytes: int = 0          # bytes received from other CPEs by register communication (mesh allgathers)
    mesh_cycles: float = 0.0     # of `cycles`, spent in mesh allgathers
    put_ops: int = 0             # sunway.dma_put issued
    streamed_puts: int = 0       # of those, halves of a tile put as soon as done (sunway-stream-puts)
    streamed_cycles: float = 0.0  # of `cycles`, the loops that run after a streamed put, before its wait
    cycles: float = 0.0
    chain_bound_cycles: float = 0.0   # of `cycles`, spent where a latency chain, not issue, is the limit
    lanes: int = 1
    issue_cycles: float = 0.0    # of one block alone (not summed): max(P0, P1) of its own ops, without chains
    p0_cycles: float = 0.0       # of one block alone (not summed): its P0 issue cycles
    p1_cycles: float = 0.0       # of one block alone (not summed): its P1 issue cycles
    notes: list[str] = field(default_factory=list)

    def scaled_add(self, other: "Mix", k: int) -> None:
        for f in ("vector_fma", "vector_other", "vector_sums", "vector_mem", "scalar_fp", "slow_fp", "libm", "scalar_mem",
                  "int_ops", "int_div", "loop_iterations", "dma_ops", "mesh_bytes", "mesh_cycles", "put_ops",
                  "streamed_puts", "streamed_cycles"):
            setattr(self, f, getattr(self, f) + k * getattr(other, f))
        self.cycles += k * other.cycles
        self.chain_bound_cycles += k * other.chain_bound_cycles
        self.notes += [n for n in other.notes if n not in self.notes]

    def as_dict(self) -> dict:
        return asdict(self)


def _is_cpe_id(v: ir.Value) -> bool:
    """The start of a work-item loop: the CPE id, or the global id cg * 64 + cpe on several core groups."""
    return is_work_item_start(v)


def trip_count(loop: ir.Operation, cpes: int, notes: list[str]) -> int:
    lb, ub, step = (constant_int(v) for v in loop.operands[:3])
    if ub is not None and step:
        if lb is not None:
            return max(0, -(-(ub - lb) // step))
        if _is_cpe_id(loop.operands[0]):
            return -(-ub // step)   # CPE 0 starts first and runs the most work items
    notes.append("a loop with dynamic bounds was counted once")
    return 1


def _latency(name: str, c: CPEConstants) -> int:
    if name in _VEC_FMA or name in _FP or name in _VEC_FP:
        return c.fp_latency
    if name in _SLOW_FP:
        return c.slow_fp_cycles
    if name.startswith(_LIBM_PREFIX):
        return c.libm_cycles
    if name in ("memref.load", "vector.load"):
        return c.ldm_latency
    return 1


def _chain(block: ir.Block, sources: list[ir.Value], sinks: list[ir.Value], c: CPEConstants) -> int:
    """Longest latency path from any of `sources` to the matching sink, through the ops of `block`."""
    best = 0
    for src, sink in zip(sources, sinks):
        dist = {src: 0}
        for op in block.operations:
            op = op.operation
            ds = [dist[v] for v in op.operands if v in dist]
            if ds and op.results:
                for r in op.results:
                    dist[r] = max(ds) + _latency(op.name, c)
        if sink in dist:
            best = max(best, dist[sink])
    return best


def recurrence(block: ir.Block, loop: ir.Operation, c: CPEConstants) -> int:
    ops = [o.operation for o in block.operations]
    yld = ops[-1]
    n_iter = len(loop.results)
    sources = list(block.arguments)[1:1 + n_iter]
    sinks = list(yld.operands)[:n_iter]
    chain = _chain(block, sources, sinks, c)
    iv = block.arguments[0]
    # an LDM element loaded and stored back at indices that do not move with the loop: a chain through memory
    for st in ops:
        if st.name not in ("memref.store", "vector.store"):
            continue
        mem, idx = st.operands[1], list(st.operands[2:])
        if any(_depends_on(i, iv, block) for i in idx):
            continue
        for ld in ops:
            if ld.name in ("memref.load", "vector.load") and ld.operands[0] == mem and list(ld.operands[1:]) == idx:
                chain = max(chain, _chain(block, [ld.results[0]], [st.operands[0]], c) + c.ldm_latency + 1)
    return chain


def body_path(block: ir.Block, c: CPEConstants) -> int:
    """The cycle after the last op of one loop-body iteration can issue: an in-order CPE issues an op only when
    its operands are ready, and nothing here moves an op of one iteration into the next (no unrolling or software
    pipelining is assumed of the C compiler), so an iteration takes at least this long. The next iteration's ops
    may issue while the last results are still in flight (a value carried to the next iteration is the
    recurrence's business). Values from outside the body are ready at its start; a nested loop's results count
    from its operands (its own cycles are counted with the loop). A libm call's latency is already charged in
    full as serial time (not counted twice)."""
    ready: dict = {}
    last_issue = 0
    for op in block.operations:
        op = op.operation
        if op.name in _FREE:
            for r in op.results:
                ready[r] = max((ready.get(v, 0) for v in op.operands), default=0)
            continue
        issue = max((ready.get(v, 0) for v in op.operands), default=0)
        last_issue = max(last_issue, issue)
        # a libm call and a horizontal sum are charged their whole latency as serial time; a splatted load is
        # the load itself (simd_loade)
        serial = (op.name.startswith(_LIBM_PREFIX) and op.name not in _FP) or op.name == "vector.reduction"
        lat = 0 if op.regions or serial or splatted_load(op) is not None else _latency(op.name, c)
        for r in op.results:
            ready[r] = issue + lat
    return last_issue + 1


def _depends_on(v: ir.Value, iv: ir.Value, block: ir.Block) -> bool:
    if v == iv:
        return True
    owner = v.owner
    if isinstance(owner, ir.Block):
        return False
    op = owner.operation
    if op.parent is None or op.block != block:
        return False
    return any(_depends_on(o, iv, block) for o in op.operands)


def block_mix(block: ir.Block, c: CPEConstants, cpes: int, loop: ir.Operation | None = None) -> Mix:
    m = Mix()
    nested = Mix()
    streaming = False   # after a streamed put, before its wait: the loops here run beside that put's DMA
    for op in block.operations:
        op = op.operation
        name = op.name
        if name == "scf.for":
            inner = block_mix(op.regions[0].blocks[0], c, cpes, op)
            trips = trip_count(op, cpes, m.notes)
            nested.scaled_add(inner, trips)
            if streaming:
                nested.streamed_cycles += trips * inner.cycles - trips * inner.streamed_cycles
            continue
        if name == "sunway.dma_put":
            m.put_ops += 1
            if STREAMED_ATTR in op.attributes:
                m.streamed_puts += 1
                streaming = True
        elif name == "sunway.dma_wait":
            streaming = False
        if op.regions:  # scf.if and the like: both sides counted, as if both ran
            for region in op.regions:
                for b in region.blocks:
                    nested.scaled_add(block_mix(b, c, cpes), 1)
            continue
        if name in _FREE:
            continue
        if splatted_load(op) is not None:
            continue   # one simd_loade with its load, which is counted as an LDM load
        if name in _VEC_FMA:
            m.vector_fma += 1
        elif name in _VEC_FP:
            m.vector_other += 1
        elif name == "vector.reduction":
            m.vector_sums += 1
        elif name in _VEC_MEM:
            m.vector_mem += 1
        elif name in _MEM:
            m.scalar_mem += 1
        elif name in _FP:
            m.scalar_fp += 1
        elif name in _SLOW_FP:
            m.slow_fp += 1
        elif name.startswith(_LIBM_PREFIX):
            m.libm += 1
        elif name in _INT_DIV:
            m.int_div += 1
        elif name in ("sunway.dma_get", "sunway.dma_put"):
            m.dma_ops += 1
        elif name == "sunway.mesh_allgather":
            cyc, received = allgather_cycles(memref_bytes(op.operands[0].type), c)
            m.mesh_cycles += cyc
            m.mesh_bytes += received
        elif name == "sunway.mesh_gather_rows":
            strip = op.operands[1].type
            row_bytes = memref_bytes(strip) // math.prod(strip.shape[:-1]) // 8
            cyc, received = gather_rows_cycles(strip.shape[-2], row_bytes, c)
            m.mesh_cycles += cyc
            m.mesh_bytes += received
        elif name == "memref.copy":  # an LDM-to-LDM copy: a load and a store per element
            n = math.prod(op.operands[0].type.shape)
            m.scalar_mem += 2 * n
        elif name.startswith("arith.") or name.startswith("index."):
            m.int_ops += 1
    if loop is not None:
        m.loop_iterations = 1
    lanes = c.vector_lanes
    p0 = (m.vector_fma / c.vector_fma_per_cycle
          + (m.scalar_fp + m.vector_other + m.vector_sums * lanes) / c.scalar_fp_per_cycle
          + m.slow_fp * c.slow_fp_cycles)
    # the micro-kernels use the unaligned forms (simd_loadu/storeu): each is charged as two LDM accesses
    p1 = (((m.vector_mem + m.vector_sums) * c.unaligned_vector_access + m.scalar_mem + m.vector_sums * lanes)
          / c.mem_per_cycle + m.int_ops / c.int_per_cycle
          + m.int_div * c.int_div_cycles + (c.loop_overhead if loop is not None else 0) + 4 * m.dma_ops)
    # a horizontal sum adds its lanes one after another: not hidden (charged as if the sums did not overlap)
    serial = m.libm * c.libm_cycles + m.mesh_cycles + m.vector_sums * lanes * c.fp_latency
    rec = max(recurrence(block, loop, c), body_path(block, c)) if loop is not None else 0
    issue = max(p0, p1)
    m.issue_cycles, m.p0_cycles, m.p1_cycles = issue, p0, p1
    m.cycles = max(issue, rec) + serial
    m.chain_bound_cycles = m.cycles if rec > issue else 0.0
    m.scaled_add(nested, 1)
    return m


def allgather_cycles(tile_bytes: int, c: CPEConstants) -> tuple[float, int]:
    """(cycles, bytes received) of one mesh allgather of a `tile_bytes` tile (swmlir_mesh_allgather): the CPE sends
    its slice in 32-byte transfers (an unaligned vector load and a putr each) and receives the 7 others (a getr and
    an unaligned vector store each), at no more than its share of the register-communication bandwidth; each of
    the 8 roots' turns pays the transfer latency. Not overlapped with anything."""
    per_slice = -(-tile_bytes // 8 // 32)
    received = 7 * (tile_bytes // 8)
    p1 = per_slice * (c.unaligned_vector_access + 1) + 7 * per_slice * (1 + c.unaligned_vector_access)
    return max(p1 / c.mem_per_cycle, received / c.mesh_bytes_per_cycle) + 8 * c.mesh_latency, received


def gather_rows_cycles(rows: int, row_bytes: int, c: CPEConstants) -> tuple[float, int]:
    """(cycles, bytes received) of one sunway.mesh_gather_rows of `rows` strip rows of 8 x `row_bytes`
    (swmlir_mesh_gather_rows): in each of the 8 roots' turns the root broadcasts the rows of its 7 peers in
    32-byte transfers (an unaligned load and a putr each) and copies its own (a load and a store); the others
    receive all 7 x rows x row_bytes (a getr each) and store the eighth they keep. Received bytes go at no more
    than the CPE's share of the register-communication bandwidth; each turn pays the transfer latency. Not
    overlapped with anything."""
    n = rows * row_bytes // 32            # transfers of one position's rows
    p1 = 7 * n * (c.unaligned_vector_access + 1) + n * 2 * c.unaligned_vector_access \
        + 7 * (7 * n + n * c.unaligned_vector_access)
    received = 49 * rows * row_bytes
    return max(p1 / c.mem_per_cycle, received / c.mesh_bytes_per_cycle) + 8 * c.mesh_latency, received


def kernel_mix(kfn: ir.Operation, c: CPEConstants, cpes: int, lanes: int) -> Mix:
    """The mix of one kernel function (loop-level IR) for the busiest CPE."""
    m = block_mix(kfn.regions[0].blocks[0], c, cpes)
    m.lanes = lanes
    return m
