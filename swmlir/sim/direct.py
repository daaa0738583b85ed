"""Direct main-memory accesses of CPE code (gld/gst): their time, from the emulator's opt-in counters.

Emitted kernels never load or store main memory directly (the emulator refuses it); a kernel built in the opt-in
mode (SWMLIR_EMU_DIRECT_ACCESS=count, swmlir/runtime/build.py) may, and each access is counted per launch:
`gld_requests`/`gst_requests` (accesses of up to 8 bytes), their bytes, and `max_cpe_direct_requests` (the busiest
CPE's). reference/sunway.md 1.2: gld/gst reach ~1.5 GB/s for the whole core group, > 120 cycles per access.
Two bounds, the larger wins:
  - latency: an in-order CPE waits for each access; the busiest CPE issues its requests one after another, 120
    cycles each (the lower end of "> 120": still never more generous than the source);
  - bandwidth: every request moves a full 8-byte word through the 1.5 GB/s the core group gets (ASSUMED: the
    source's figure is taken as the rate of 8-byte accesses, so smaller accesses pay as much as 8 bytes).
SW26010-Pro: no source gives its gld/gst; the SW26010 figures are used (ASSUMED) at the Pro's clock.
The time is added to the kernel's memory time and overlaps nothing (model.py).
"""
from __future__ import annotations

from ..targets import Target
from .constants import cpe_constants

GLD_GST_LATENCY_CYCLES = 120          # sunway.md 1.2: > 120 cycles per access
GLD_GST_BYTES_PER_SECOND = 1.5e9      # sunway.md 1.2: ~1.5 GB/s aggregate per core group
GLD_GST_REQUEST_BYTES = 8             # a request is charged as one 8-byte word (ASSUMED)


def direct_access_seconds(launches: list[dict], target: Target) -> float:
    """Modeled time of the direct accesses of a kernel's launches (0 when none were counted)."""
    clock = cpe_constants(target).clock_hz
    t = 0.0
    for l in launches:
        requests = l.get("gld_requests", 0) + l.get("gst_requests", 0)
        if not requests:
            continue
        busiest = l.get("max_cpe_direct_requests", requests)
        latency = busiest * GLD_GST_LATENCY_CYCLES / clock
        bandwidth = requests * GLD_GST_REQUEST_BYTES / GLD_GST_BYTES_PER_SECOND
        t += max(latency, bandwidth)
    return t
