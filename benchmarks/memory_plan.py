"""The work arena against the sum of intermediates (swmlir/analysis/memory_plan.py) on transformers and CNNs.

Compiles each model for SW26010 (nothing runs) and prints, per model, the buffers of the host, the sum of their
bytes, the arena the plan gives, and the plan's lower bound (the most bytes live at one launch). The table of
docs/architecture.md ("The memory plan of the host") comes from it; BERT-base and ViT-B/16 take a few minutes
each on 2 cores.

  .venv/bin/python benchmarks/memory_plan.py                      # bert, vit, resnet18
  .venv/bin/python benchmarks/memory_plan.py --models encoder,vgg11,mobilenetv2
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import swmlir  # noqa: E402
from swmlir.analysis import memory_plan  # noqa: E402
from swmlir.testing import networks  # noqa: E402

MODELS = {
    "bert": ("BERT-base-like (12 layers, hidden 768, 12 heads, FFN 3072, seq 128)", networks.bert_encoder),
    # the Conv patch embedding of networks.vit() does not compile yet at 224 (a strided copy on the host after the
    # conv's whole-vector width cut, 14 -> 16); the MatMul form is the same product
    "vit": ("ViT-B/16-like (224, 197 tokens, 12 pre-LN layers; patch embedding as MatMul)",
            lambda: networks.vit(patch_conv=False)),
    "resnet18": ("ResNet-18 (224)", networks.resnet18),
    "encoder": ("one encoder block (hidden 256, 4 heads, seq 128)", networks.transformer_encoder),
    "vgg11": ("VGG-11 (224)", networks.vgg11),
    "mobilenetv2": ("MobileNetV2-style (224)", lambda: networks.mobilenet_v2(size=224)),
}


def measure(name: str) -> dict:
    """Compile one model; the host's buffers are read where sunway-host-to-emitc plans them."""
    from swmlir.passes import host_to_emitc
    seen = {}
    planner = host_to_emitc.plan

    def recording(block, size_of):
        buffers = memory_plan.live_ranges(block, size_of)
        seen.update(buffers=len(buffers), bound=memory_plan.lower_bound(buffers))
        return planner(block, size_of)

    host_to_emitc.plan = recording
    try:
        t0 = time.perf_counter()
        m = swmlir.compile(MODELS[name][1](), target="sw26010")
    finally:
        host_to_emitc.plan = planner
    return dict(seen, arena=m.arena_bytes, intermediates=m.intermediate_bytes, seconds=time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="bert,vit,resnet18", help=f"comma-separated, of: {', '.join(MODELS)}")
    a = p.parse_args(argv)
    print("| model | buffers | intermediates | arena | lower bound |")
    print("|---|---|---|---|---|")
    for name in a.models.split(","):
        r = measure(name)
        i = r["intermediates"]
        print(f"| {MODELS[name][0]} | {r['buffers']} | {i:,} | {r['arena']:,} ({r['arena'] / i:.1%}) | "
              f"{r['bound']:,} ({r['bound'] / i:.1%}) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
