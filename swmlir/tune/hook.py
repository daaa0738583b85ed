"""The tuning hook of sunway-schedule: `passes/schedule.py::_tiles_for` asks the active tuner (a database to
apply, or a tuning session) for a group's tiles before it searches them itself.

A tuner is an object with `tiles_for(group, target, signature, heuristic) -> TileChoice | None`; `heuristic()`
returns the schedule's own choice. None means: use the heuristic. Nothing is active by default, and then the
schedule is exactly the heuristic's.
"""
from __future__ import annotations

import contextlib
import contextvars

ACTIVE: contextvars.ContextVar = contextvars.ContextVar("swmlir_tuner", default=None)


@contextlib.contextmanager
def using(tuner):
    """Make `tuner` the active one for the compilations inside the block (None: none)."""
    token = ACTIVE.set(tuner)
    try:
        yield tuner
    finally:
        ACTIVE.reset(token)
