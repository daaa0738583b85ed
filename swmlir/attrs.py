"""The names of the discardable attributes that one part of swmlir sets and another reads, defined once.

The names themselves are part of the IR contract (lit tests check them and the emitted IR carries them): change
a value here only together with the tests. An attribute that a single module sets and reads keeps its constant in
that module; the target's name on a module is `swmlir.targets.TARGET_ATTR`.
"""

# on linalg ops (the importer), then on the outlined kernel func: the ONNX node the op comes from
NODE_ATTR = "swmlir.node"
# on a fusion group's root op or loop (sunway-schedule), then on its kernel: the group's node names ("a+b")
GROUP_ATTR = "swmlir.group"
# beside GROUP_ATTR / NODE_ATTR: the chosen tiles, described (sunway-schedule; stats and LDM errors print it)
TILES_ATTR = "swmlir.tiles"
# on the kernel func.func outlined from a CPE loop (sunway-outline-kernels)
KERNEL_ATTR = "sunway.kernel"
# on a kernel: the work items of one launch over all CPEs (sunway-map-cpes; read by swmlir.stats)
WORK_ITEMS_ATTR = "sunway.work_items"
# on a kernel: the LDM bytes it allocates, as sunway-check-ldm counted them (read by swmlir.stats)
LDM_BYTES_ATTR = "sunway.ldm_bytes"
# on a dma_put that sunway-stream-puts split off (the first half's put; read by swmlir.sim.mix)
STREAMED_ATTR = "sunway.streamed"
# on the host's main func (swmlir.compile), then on the emitted swmlir_run: how many parameters are inputs
NUM_INPUTS_ATTR = "swmlir.num_inputs"
# on the host module after sunway-host-to-emitc: the memory plan's arena, the sum of all intermediates, and the
# weights file's size, in bytes (i64)
ARENA_BYTES_ATTR = "swmlir.arena_bytes"
INTERMEDIATE_BYTES_ATTR = "swmlir.intermediate_bytes"
WEIGHTS_BYTES_ATTR = "swmlir.weights_bytes"
