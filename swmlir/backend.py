"""The ONNX backend API (onnx.backend.base) on swmlir: `prepare` compiles for a Sunway target, `run` executes the
emitted C on the host emulator. This is what the ONNX backend node tests (and `swmlir conformance`) drive."""
from __future__ import annotations

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep

from .errors import CompileError

DEFAULT_TARGET = "sw26010"


class SwmlirRep(BackendRep):
    def __init__(self, compiled):
        self.compiled = compiled

    def run(self, inputs, **kwargs):
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        return self.compiled.run(list(inputs) if not isinstance(inputs, dict) else inputs)


class SwmlirBackend(Backend):
    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs) -> SwmlirRep:
        from .compiler import compile as _compile
        super().prepare(model, device, **kwargs)
        return SwmlirRep(_compile(model, kwargs.get("target", DEFAULT_TARGET),
                                  input_shapes=kwargs.get("input_shapes")))

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node, inputs, device="CPU", outputs_info=None, **kwargs):
        raise NotImplementedError("swmlir compiles whole models; use prepare/run_model")

    @classmethod
    def supports_device(cls, device: str) -> bool:
        # The emitted code runs on a Sunway core group or, through the emulator, on this machine's CPU.
        return device.upper() in ("CPU", "SUNWAY")

    @classmethod
    def is_compatible(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs) -> bool:
        """True when every node has a converter for the model's opset (attribute values are checked later)."""
        from .frontend.onnx.importer import _check_supported, _opsets
        from .frontend.onnx.registry import _load_converters
        _load_converters()
        try:
            _check_supported(model.graph, _opsets(model))
        except CompileError:
            return False
        return True


prepare = SwmlirBackend.prepare
run_model = SwmlirBackend.run_model
supports_device = SwmlirBackend.supports_device
