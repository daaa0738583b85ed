"""The Sunway performance model: exact emulator counters + the kernels' static instruction mix -> modeled time.

  constants.py   the machine's numbers, each with its source or marked as an assumption
  mix.py         static instruction mix of a CPE kernel, read off its loop-level IR (busiest CPE)
  dma.py         DMA time from the block-size histogram and the target's bandwidth curve
  model.py       kernel and model time: DMA + compute (+ overlap only where the kernel double-buffers) + spawn
  roofline.py    the roofline plot of a bench run
docs/performance-model.md explains every constant and assumption.
"""
from .model import KernelTime, ModelTime, model_kernel, model_run  # noqa: F401
