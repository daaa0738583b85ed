"""The sanitizer job (issue 9, item 5): the emulator, the runtime and the emitted C of the end-to-end models built
with AddressSanitizer + UndefinedBehaviorSanitizer, and apart with ThreadSanitizer, run, and matched with
onnxruntime.

The flags reach the build through ``$SWMLIR_EMU_CFLAGS`` (swmlir/runtime/build.py: every object and the link; the
emulator's and runtime's objects are cached per flags). The sanitizers run with their default options: an ASan
or TSan report, or any UBSan finding (``-fno-sanitize-recover=undefined``), makes the program exit nonzero and
the model fail. Under a sanitizer runtime the emulator leaves SIGSEGV and the allocator to it (the direct-access
guard is off; its counters file says ``"direct_access": "unguarded"``).

``python -m swmlir.testing.sanitize [--sanitizer asan|tsan|all] [--model NAME ...]`` (scripts/sanitize.sh);
exit status 1 if any model fails.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

SANITIZERS = {
    "asan": "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g",
    "tsan": "-fsanitize=thread -fno-omit-frame-pointer -g",
}


def _models():
    from swmlir.testing import networks
    return {   # name -> (model builder, target, compile options)
        "lenet": (lambda: networks.lenet(), "sw26010", {}),
        "lenet-batch3": (lambda: networks.lenet(batch=3), "sw26010", {}),
        "mlp": (lambda: networks.mlp(), "sw26010", {}),
        "conv_relu": (lambda: networks.conv_relu(), "sw26010", {}),
        "matmul": (lambda: networks.matmul(), "sw26010", {}),
        "transformer": (lambda: networks.transformer_encoder(seq=16, hidden=32, heads=2, ffn=64), "sw26010", {}),
        "lenet-sw26010pro": (lambda: networks.lenet(), "sw26010pro", {}),   # the CRTS API
        "matmul-4cgs": (lambda: networks.matmul(), "sw26010", {"cgs": 4}),  # several core groups
    }


def model_names() -> list[str]:
    return list(_models())


def _feeds(model) -> dict:
    from onnx import helper
    rng = np.random.default_rng(0)
    inits = {i.name for i in model.graph.initializer}
    feeds = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        t = vi.type.tensor_type
        shape = [d.dim_value for d in t.shape.dim]
        feeds[vi.name] = rng.standard_normal(shape).astype(helper.tensor_dtype_to_np_dtype(t.elem_type))
    return feeds


def check_model(name: str, sanitizer: str) -> tuple[bool, str]:
    """Build model `name` under `sanitizer` (a key of SANITIZERS), run it, compare it with onnxruntime;
    (passed, message)."""
    import swmlir
    from swmlir.cli import onnxruntime_outputs
    from swmlir.errors import CompileError

    build, target, opts = _models()[name]
    model = build()
    feeds = _feeds(model)
    old = os.environ.get("SWMLIR_EMU_CFLAGS")
    os.environ["SWMLIR_EMU_CFLAGS"] = SANITIZERS[sanitizer]
    try:
        with swmlir.compile(model, target, **opts) as compiled:
            got = compiled.run(feeds)
    except CompileError as e:
        return False, str(e)
    finally:
        if old is None:
            os.environ.pop("SWMLIR_EMU_CFLAGS", None)
        else:
            os.environ["SWMLIR_EMU_CFLAGS"] = old
    want = onnxruntime_outputs(model, feeds)
    for k, (g, w) in enumerate(zip(got, want)):
        if g.shape != w.shape or not np.allclose(g, w, rtol=1e-4, atol=1e-5):
            return False, f"output #{k} differs from onnxruntime (max abs error " \
                          f"{float(np.max(np.abs(g - w))) if g.shape == w.shape else 'shape'})"
    return True, "ok"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m swmlir.testing.sanitize", description=__doc__.split("\n\n")[0])
    p.add_argument("--sanitizer", choices=[*SANITIZERS, "all"], default="all")
    p.add_argument("--model", action="append", choices=model_names(),
                   help="a model to check (repeatable; default: all)")
    a = p.parse_args(argv)
    sans = list(SANITIZERS) if a.sanitizer == "all" else [a.sanitizer]
    failed = 0
    for san in sans:
        for name in a.model or model_names():
            t0 = time.monotonic()
            ok, msg = check_model(name, san)
            failed += not ok
            print(f"{san:5} {name:18} {'ok  ' if ok else 'FAIL'} {time.monotonic() - t0:5.1f} s"
                  + ("" if ok else "\n" + msg), flush=True)
    print(f"sanitize: {failed} failure(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
