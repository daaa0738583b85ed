"""The roofline of a bench run: the target's compute roof and DMA slope, one point per kernel at its modeled
GFLOPS and measured flop per DMA byte (matplotlib, drawn off-screen)."""
from __future__ import annotations

from ..targets import Target
from .dma import bandwidth, curve_of


def plot_roofline(report: dict, target: Target, path: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from ..errors import CompileError
        raise CompileError("--plot needs matplotlib (pip install matplotlib)", stage="bench") from None
    peak = target.peak_gflops_per_cg
    best_bw = bandwidth(1 << 30, curve_of(target)) / 1e9
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = [2 ** (i / 4) for i in range(-24, 41)]
    ax.plot(xs, [min(peak, x * best_bw) for x in xs], "k-", label=f"roof: {peak} GFLOPS, {best_bw:.1f} GB/s DMA")
    for b in (256, 2048):
        bw = bandwidth(b, curve_of(target)) / 1e9
        ax.plot(xs, [min(peak, x * bw) for x in xs], ":", label=f"DMA in {b} B blocks: {bw:.1f} GB/s")
    for k in report["kernels"]:
        fpb, g = k.get("flops_per_byte"), k["model"]["gflops"]
        if fpb and g > 0:
            ax.plot([fpb], [g], "o")
            ax.annotate(k["node"] or k["kernel"], (fpb, g), fontsize=6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("flop per DMA byte (emulator counters)")
    ax.set_ylabel("modeled GFLOPS")
    ax.set_title(f"{report['model']} on {target.name}: {report['modeled']['summary'] if report.get('modeled') else ''}",
                 fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
