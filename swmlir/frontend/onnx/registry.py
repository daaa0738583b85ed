"""Converter table keyed by (domain, op type, since-version), as ONNX versions its operators.

A converter registered with `since=13` serves every opset >= 13 until a converter with a higher `since`
takes over; an opset below the lowest `since` has no converter, and the importer reports it as unsupported.
The same function may be registered at several versions to document where ONNX changed the operator
without changing what the converter does.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Callable

DEFAULT_DOMAINS = ("", "ai.onnx")


@dataclass(frozen=True)
class Converter:
    domain: str
    op_type: str
    since: int
    fn: Callable


_TABLE: dict[tuple[str, str], list[Converter]] = {}


def _domain(domain: str) -> str:
    return "" if domain in DEFAULT_DOMAINS else domain


def converter(op_type: str, *, since: int | tuple[int, ...], domain: str = ""):
    """Register the decorated `fn(ctx, node)` for `op_type` from opset `since` on. A tuple registers the same
    function at each of those versions (ONNX's version boundaries that the converter was checked against)."""
    sinces = since if isinstance(since, tuple) else (since,)

    def register(fn):
        entries = _TABLE.setdefault((_domain(domain), op_type), [])
        for v in sinces:
            if any(c.since == v for c in entries):
                raise ValueError(f"two converters for {op_type} since opset {v}")
            bisect.insort(entries, Converter(_domain(domain), op_type, v, fn), key=lambda c: c.since)
        return fn

    return register


def lookup(op_type: str, opset: int, domain: str = "") -> Converter | None:
    """The converter with the highest `since` <= `opset`, or None."""
    entries = _TABLE.get((_domain(domain), op_type), [])
    best = None
    for c in entries:
        if c.since <= opset:
            best = c
    return best


def supported_ops(domain: str = "") -> list[tuple[str, tuple[int, ...]]]:
    """(op_type, since-versions) for every registered op of `domain`, sorted by op type (for docs)."""
    _load_converters()
    d = _domain(domain)
    return sorted((op, tuple(c.since for c in cs)) for (dom, op), cs in _TABLE.items() if dom == d)


def registered_domains() -> list[str]:
    """Every domain with a converter ("" is ONNX's default domain), sorted."""
    _load_converters()
    return sorted({dom for dom, _ in _TABLE})


def _load_converters() -> None:
    from . import ops  # noqa: F401  (importing the package registers every converter)
