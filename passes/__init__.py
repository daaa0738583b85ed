"""swmlir's own passes: one module per pass, named after its flag (sunway-lower-dma -> lower_dma.py).

Each module registers its pass with `@register_pass`. A pass is a function `run(module_op, **options)` that
rewrites the module in place and raises `swmlir.errors.CompileError` on input it cannot handle. The pipeline
driver (`swmlir.pass_pipeline`) runs these between upstream MLIR pass-manager segments, so a textual pipeline
can mix upstream passes and ours by name.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class PassOption:
    default: Any
    help: str


@dataclass
class PassInfo:
    flag: str
    summary: str
    run: Callable[..., None]
    options: dict[str, PassOption] = field(default_factory=dict)

    def parse_options(self, text: str) -> dict[str, Any]:
        """Parse `a=1 b=x` (the part inside `flag{...}`) against the declared options."""
        values: dict[str, Any] = {}
        for item in text.split():
            key, _, raw = item.partition("=")
            key = key.replace("-", "_")
            if key not in self.options:
                known = ", ".join(self.options) or "none"
                raise ValueError(f"pass '{self.flag}' has no option '{key}' (options: {known})")
            default = self.options[key].default
            if isinstance(default, bool):
                values[key] = raw.lower() in ("", "1", "true", "on")
            elif isinstance(default, int):
                values[key] = int(raw)
            else:
                values[key] = raw
        return values


REGISTRY: dict[str, PassInfo] = {}


def register_pass(flag: str, summary: str, options: dict[str, tuple[Any, str]] | None = None):
    """Decorator: register `fn(module_op, **options)` as the pass `flag`."""

    def wrap(fn):
        REGISTRY[flag] = PassInfo(flag, summary, fn,
                                  {k.replace("-", "_"): PassOption(*v) for k, v in (options or {}).items()})
        return fn

    return wrap


def load_all() -> dict[str, PassInfo]:
    """Import every pass module of this package so that all passes are registered."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return REGISTRY
