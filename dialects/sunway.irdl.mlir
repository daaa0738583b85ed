// The Sunway dialect: only what is specific to the Sunway core groups. Loops, arithmetic and memory use the
// upstream dialects. Main memory is memref memory space 0 (default), the CPE local data memory (LDM) is space 2.
// Semantics and the C each op becomes: dialects/README.md.
irdl.dialect @sunway {
  // ---- core group -------------------------------------------------------------------------------------------
  // Start kernel @kernel on all CPEs of the core group (athread_spawn). Its arguments are what the athread ABI
  // passes in the kernel's argument struct: words, i.e. main-memory addresses of whole buffers
  // (memref.extract_aligned_pointer_as_index) and integers, one per kernel parameter, in order.
  irdl.operation @spawn {
    %args = irdl.is index
    irdl.operands(args: variadic %args)
    %sym = irdl.base "#builtin.symbol_ref"
    irdl.attributes { "kernel" = %sym }
  }
  // Wait until the kernel spawned last on this core group has finished on every CPE (athread_join).
  irdl.operation @join {
  }
  // Logical id of this CPE in its core group, 0..63 (athread_get_id(-1) / CRTS_tid).
  irdl.operation @cpe_id {
    %i = irdl.is index
    irdl.results(id: %i)
  }
  // Row (id / 8) and column (id % 8) of this CPE in the 8x8 mesh.
  irdl.operation @cpe_row {
    %i = irdl.is index
    irdl.results(row: %i)
  }
  irdl.operation @cpe_col {
    %i = irdl.is index
    irdl.results(col: %i)
  }
  // The core group of this CPE, 0..N-1, when the host spawns a kernel on N core groups (athread_spawn_cgs;
  // CRTS_cgn). The global CPE id of sunway-map-cpes is cg_id * 64 + cpe_id.
  irdl.operation @cg_id {
    %i = irdl.is index
    irdl.results(cg: %i)
  }
  // Barrier over all CPEs of the core group (athread_syn(ARRAY_SCOPE, 0xffff) / CRTS_ssync_array()).
  irdl.operation @barrier {
  }

  // ---- LDM ----------------------------------------------------------------------------------------------------
  // A static buffer in this CPE's LDM. The sum over a kernel is checked against the target's LDM size.
  irdl.operation @ldm_alloc {
    %m = irdl.base "!builtin.memref"
    irdl.results(buffer: %m)
  }
  // A DMA reply word in LDM, zero-initialised; every finished DMA request adds one to it.
  irdl.operation @reply {
    %m = irdl.base "!builtin.memref"
    irdl.results(reply: %m)
  }

  // ---- DMA ----------------------------------------------------------------------------------------------------
  // Asynchronous copy of a main-memory view into an LDM buffer of the same shape (athread_get / CRTS_dma_iget).
  // A contiguous view is one request; a strided view becomes strided requests (bsize = contiguous bytes per
  // block, stride = bytes skipped between blocks), outer dimensions a loop of such requests.
  irdl.operation @dma_get {
    %src = irdl.base "!builtin.memref"
    %dst = irdl.base "!builtin.memref"
    %rep = irdl.base "!builtin.memref"
    irdl.operands(src: %src, dst: %dst, reply: %rep)
  }
  // Asynchronous copy of an LDM buffer into a main-memory view of the same shape (athread_put / CRTS_dma_iput).
  irdl.operation @dma_put {
    %src = irdl.base "!builtin.memref"
    %dst = irdl.base "!builtin.memref"
    %rep = irdl.base "!builtin.memref"
    irdl.operands(src: %src, dst: %dst, reply: %rep)
  }
  // Wait until `count` DMA requests counted in `reply` have completed, then reset it to zero.
  irdl.operation @dma_wait {
    %rep = irdl.base "!builtin.memref"
    %i = irdl.is index
    irdl.operands(reply: %rep, count: %i)
  }
  // ---- mesh ---------------------------------------------------------------------------------------------------
  // Share an LDM tile across a row (axis 0) or a column (axis 1) of the 8x8 mesh: the CPE at position p of its
  // row (column: p = its row index) holds part p of the buffer, the p-th of 8 equal slices along dimension
  // `dim` (all dimensions before it have extent 1, so each slice is contiguous); afterwards every CPE of the
  // row (column) holds the whole buffer. All 8 CPEs must reach it together. On SW26010 it is register
  // communication: each root sends its slice with broadcast putr/putc, the others receive with getr/getc.
  irdl.operation @mesh_allgather {
    %m = irdl.base "!builtin.memref"
    irdl.operands(buffer: %m)
    %axis = irdl.base "#builtin.integer"
    %dim = irdl.base "#builtin.integer"
    irdl.attributes { "axis" = %axis, "dim" = %dim }
  }
  // Regroup the output tiles of a mesh row into whole rows before they are put: the 8 CPEs of a row hold tiles
  // [R, W] that lie side by side in main memory (position p at columns p*W); afterwards the CPE at position p
  // holds, for i < rows(strip), row p*R/8 + first + i of all 8 tiles in `strip` [r, 8*W]: strip[i][j*W + x] =
  // tile of position j [p*R/8 + first + i][x]. One put of `strip` then writes r rows of 8*W contiguous elements
  // where each CPE would have put R rows of W. All 8 CPEs must reach it together. SW26010: each root
  // broadcasts the rows its peers need (putr), each CPE keeps its own (getr).
  irdl.operation @mesh_gather_rows {
    %t = irdl.base "!builtin.memref"
    %s = irdl.base "!builtin.memref"
    irdl.operands(tile: %t, strip: %s)
    %first = irdl.base "#builtin.integer"
    irdl.attributes { "first" = %first }
  }
}
