"""swmlir's own passes: one module per pass, named after its flag (sunway-lower-dma -> lower_dma.py).

Each module registers its pass with `@register_pass`. A pass is a function `run(op, **options)` that rewrites
`op` in place and raises `swmlir.errors.CompileError` on input it cannot handle (with `location=` the location
of the op at fault, when there is one). `op` is the builtin.module, or, for a pass registered with
`nestable=True` and named inside `func.func(...)` in a pipeline, one func.func at a time.

The pipeline driver (`swmlir.pass_pipeline`) adds every pass to one MLIR PassManager with the upstream ones, as
a Python pass (`PassManager.add(callable)`): the verifier runs after it, IR printing and timing see it, and a
CompileError becomes an error diagnostic at its location followed by a pass failure.
"""
from __future__ import annotations

import importlib
import pkgutil
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class PassOption:
    default: Any
    help: str


_TRUE, _FALSE = ("", "1", "true", "on", "yes"), ("0", "false", "off", "no")


@dataclass
class PassInfo:
    flag: str
    summary: str
    run: Callable[..., None]
    options: dict[str, PassOption] = field(default_factory=dict)
    nestable: bool = False   # works on one func.func at a time: may be named inside `func.func(...)`

    @property
    def pass_name(self) -> str:
        """The pass's class-like name (what IR dumps and timing reports show): sunway-lower-ldm -> SunwayLowerLdm."""
        return "".join(w[:1].upper() + w[1:] for w in self.flag.split("-"))

    def parse_options(self, text: str) -> dict[str, Any]:
        """Parse `a=1 b=x` (the part inside `flag{...}`) against the declared options; ValueError with a one-line
        message for an unknown option or a value of the wrong kind."""
        values: dict[str, Any] = {}
        try:
            items = shlex.split(text)
        except ValueError as e:
            raise ValueError(f"pass '{self.flag}': cannot read the options '{text}': {e}") from None
        for item in items:
            key, eq, raw = item.partition("=")
            key = key.replace("-", "_")
            if key not in self.options:
                known = ", ".join(k.replace("_", "-") for k in self.options) or "none"
                raise ValueError(f"pass '{self.flag}' has no option '{key.replace('_', '-')}' (options: {known})")
            default = self.options[key].default
            flag_key = key.replace("_", "-")
            if isinstance(default, bool):
                if raw.lower() in _TRUE:
                    values[key] = True
                elif raw.lower() in _FALSE:
                    values[key] = False
                else:
                    raise ValueError(f"pass '{self.flag}' option '{flag_key}' takes true or false, not '{raw}'")
            elif isinstance(default, int):
                try:
                    values[key] = int(raw)
                except ValueError:
                    raise ValueError(f"pass '{self.flag}' option '{flag_key}' takes an integer, not '{raw}'") from None
            else:
                if not eq:
                    raise ValueError(f"pass '{self.flag}' option '{flag_key}' needs a value ({flag_key}=...)")
                values[key] = raw
        return values


REGISTRY: dict[str, PassInfo] = {}


def register_pass(flag: str, summary: str, options: dict[str, tuple[Any, str]] | None = None, *,
                  nestable: bool = False):
    """Decorator: register `fn(op, **options)` as the pass `flag`. nestable=True: the pass only looks at one
    function at a time (it may run on a func.func as well as on the module)."""

    def wrap(fn):
        REGISTRY[flag] = PassInfo(flag, summary, fn,
                                  {k.replace("-", "_"): PassOption(*v) for k, v in (options or {}).items()},
                                  nestable)
        return fn

    return wrap


def load_all() -> dict[str, PassInfo]:
    """Import every pass module of this package so that all passes are registered."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return REGISTRY
