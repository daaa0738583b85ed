"""The ONNX backend API (onnx.backend.base) on swmlir: `prepare` compiles for a Sunway target, `run` executes the
emitted C on the host emulator. This is what the ONNX backend node tests (and `swmlir conformance`) drive."""
from __future__ import annotations

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep

from .errors import CompileError, ConstantInputRequired

DEFAULT_TARGET = "sw26010"


class SwmlirRep(BackendRep):
    """A compiled model; or, when the model computes shapes from integer graph inputs (a Reshape's `shape`, a
    Slice's `starts`...), a model compiled on first run for those inputs' values (frozen into constants) and
    recompiled whenever they change. Results are exact for any inputs; only compile time is deferred."""

    def __init__(self, model, target, compiled=None, specialize_reason: str = "", given_inputs=None,
                 needed_inputs=()):
        self.model, self.target, self.compiled = model, target, compiled
        # the caller's input order: it may include zero-size inputs frozen at prepare time
        self.given_inputs = given_inputs or _graph_inputs(model)
        self.specialize_reason = specialize_reason
        self.needed_inputs = set(needed_inputs)   # inputs a converter named as needed constant (at prepare)
        self.specialized_on: list[str] = []
        self._cache: dict = {}

    def run(self, inputs, **kwargs):
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        names = _graph_inputs(self.model)
        if not isinstance(inputs, dict):
            inputs = dict(zip(self.given_inputs, inputs))
        if self.compiled is not None:
            return self.compiled.run({n: inputs[n] for n in names})
        from .errors import ImportError_
        arrays = [np.asarray(inputs[n]) for n in names] if isinstance(inputs, dict) else [np.asarray(a) for a in inputs]
        values = dict(zip(names, arrays))
        # integer inputs usually decide shapes; then whatever input a converter names as needed constant
        wanted = {n for n, a in values.items() if a.dtype.kind in "iub"} | (self.needed_inputs & set(names))
        for _ in range(len(names) + 1):
            frozen = {n: values[n] for n in names if n in wanted}
            key = tuple((n, a.dtype.str, a.shape, a.tobytes()) for n, a in frozen.items())
            compiled = self._cache.get(key)
            if compiled is None:
                from .compiler import compile as _compile
                try:
                    compiled = _compile(freeze_inputs(self.model, frozen), self.target)
                except ConstantInputRequired as e:
                    more = (set(e.inputs) & set(names)) - wanted
                    if not more:
                        raise
                    wanted |= more
                    continue
                self._cache[key] = compiled
            self.specialized_on = sorted(frozen)
            return compiled.run([values[n] for n in names if n not in frozen])
        raise ImportError_("specializing on input values did not converge")


def _graph_inputs(model: onnx.ModelProto) -> list[str]:
    inits = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]


def freeze_inputs(model: onnx.ModelProto, values: dict[str, np.ndarray]) -> onnx.ModelProto:
    """A copy of `model` in which the given graph inputs are initializers with the given values."""
    from onnx import numpy_helper
    m = onnx.ModelProto.FromString(model.SerializeToString())
    keep = [i for i in m.graph.input if i.name not in values]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    for name, a in values.items():
        m.graph.initializer.append(numpy_helper.from_array(np.asarray(a), name))
    return m


class SwmlirBackend(Backend):
    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs) -> SwmlirRep:
        from .compiler import compile as _compile
        super().prepare(model, device, **kwargs)
        target = kwargs.get("target", DEFAULT_TARGET)
        given = _graph_inputs(model)
        model = _freeze_empty_inputs(model)
        try:
            return SwmlirRep(model, target, _compile(model, target, input_shapes=kwargs.get("input_shapes")),
                             given_inputs=given)
        except ConstantInputRequired as e:
            # shapes computed from integer graph inputs: compile at run time, for their values
            if kwargs.get("specialize", True) and (
                    _has_integer_inputs(model) or set(e.inputs) & set(_graph_inputs(model))):
                return SwmlirRep(model, target, None, specialize_reason=str(e).splitlines()[0], given_inputs=given,
                                 needed_inputs=e.inputs)
            raise

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
        from .graph import expand_functions
        model = expand_functions.run(onnx.ModelProto.FromString(model.SerializeToString()))
        try:
            _check_supported(model.graph, _opsets(model))
        except CompileError:
            return False
        return True


def _freeze_empty_inputs(model: onnx.ModelProto) -> onnx.ModelProto:
    """Graph inputs with a zero-size shape carry no data: their value is known at prepare time (empty)."""
    from onnx import helper
    empty = {}
    inits = {t.name for t in model.graph.initializer}
    for i in model.graph.input:
        if i.name in inits or not i.type.HasField("tensor_type"):
            continue
        dims = i.type.tensor_type.shape.dim
        if dims and any(d.HasField("dim_value") and d.dim_value == 0 for d in dims) and all(
                d.HasField("dim_value") for d in dims):
            dt = helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type)
            empty[i.name] = np.zeros([d.dim_value for d in dims], dtype=dt)
    return freeze_inputs(model, empty) if empty else model


def _has_integer_inputs(model: onnx.ModelProto) -> bool:
    from onnx import helper
    names = set(_graph_inputs(model))
    for i in model.graph.input:
        if i.name in names and i.type.HasField("tensor_type"):
            dt = helper.tensor_dtype_to_np_dtype(i.type.tensor_type.elem_type)
            if np.dtype(dt).kind in "iub":
                return True
    return False


prepare = SwmlirBackend.prepare
run_model = SwmlirBackend.run_model
supports_device = SwmlirBackend.supports_device
