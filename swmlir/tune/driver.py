"""Tune every distinct fusion group of a model, and apply a tuning database to a compilation.

Both work through the schedule pass's hook (hook.py): the model is lowered to the schedule stage with a tuner
active, and sunway-schedule asks it for the tiles of every group it schedules, with the group's ops alive (the
cost reads them). `DBTuner` answers from a database; `TuneSession` searches (starting from the heuristic's
choice), records the best in the database and answers with it.
"""
from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, field

from swmlir.schedule.tiling import TileChoice

from .baselines import anneal, exhaustive, random_search, xgb_search
from .cost import GroupModel, group_model
from .db import TuningDB, TuningDBError
from .gbfs import gbfs
from .na2c import na2c
from .space import Space

METHODS = {"gbfs": gbfs, "na2c": na2c, "random": random_search, "anneal": anneal, "xgb": xgb_search,
           "exhaustive": exhaustive}


def group_space(model: GroupModel, name: str = "") -> Space:
    """The space of a group's tiling op (space.py): every divisor per parallel loop, 0 (untiled) or a proper
    divisor per reduction loop where the group may tile its reduction, the loop whole where it may not be
    tiled (read through floordiv/mod) or has size 1."""
    nest = model.nest
    options = []
    for d, (size, par) in enumerate(zip(nest.sizes, nest.parallel)):
        if d in nest.untileable or size == 1:
            options.append([size if par else 0])
        elif par:
            options.append([t for t in range(1, size + 1) if size % t == 0])
        else:
            options.append([0] + ([t for t in range(1, size) if size % t == 0] if model.allow_reduction_tiles else []))

    def split(state):
        return ([t if p else 0 for t, p in zip(state, nest.parallel)],
                [0 if p else t for t, p in zip(state, nest.parallel)])

    def legal(state):
        return model.ldm(*split(state)) <= model.ldm_budget

    def cost(state):
        c = model.choice(*split(state))
        return None if c is None else c.seconds

    space = Space(nest.sizes, nest.parallel, cost, legal, options, name)
    space.split = split
    return space


def state_of(choice: TileChoice, parallel: list[bool]) -> tuple:
    return tuple(f if p else r for f, r, p in zip(choice.forall, choice.reduction, parallel))


def group_key(g, tgt, signature, model: GroupModel) -> str:
    digest = hashlib.sha1(repr(signature).encode()).hexdigest()[:12]
    return f"{tgt.name}/{model.kind}/{'x'.join(map(str, model.nest.sizes))}/{digest}"


def _shapes(g) -> list[str]:
    return [", ".join(str(v.type) for v in op.operands) for op in g.ops]


def _node(g) -> str:
    from swmlir.passes.schedule import _node_name
    names = []
    for o in reversed(g.ops):
        if _node_name(o) not in names:
            names.append(_node_name(o))
    return "+".join(names)


class DBTuner:
    """Answers with the database's configuration of a group (costed again by the model), None where it has none."""

    def __init__(self, db: TuningDB):
        self.db = db
        self.applied: list[str] = []

    def tiles_for(self, g, tgt, signature, heuristic):
        model = group_model(g, tgt)
        key = group_key(g, tgt, signature, model)
        e = self.db.get(key)
        if e is None:
            return None
        where = self.db.where.get(key, self.db.path or "tuning database")
        forall, reduction = e["config"]["forall"], e["config"]["reduction"]
        sizes = model.nest.sizes
        if e["loops"] != sizes or len(forall) != len(sizes) or len(reduction) != len(sizes):
            raise TuningDBError(f"{where}: entry '{key}' is for loops {e['loops']}, the group has {sizes}")
        for d, (f, r, s, p) in enumerate(zip(forall, reduction, sizes, model.nest.parallel)):
            t = f if p else r
            if (p and r) or (not p and f) or (p and not f) or (t and s % t):
                raise TuningDBError(f"{where}: entry '{key}': loop {d} (size {s}, "
                                    f"{'parallel' if p else 'reduction'}) cannot take forall tile {f} and "
                                    f"reduction tile {r} (a tile must divide its loop)")
            if t not in group_space(model).options[d]:
                raise TuningDBError(f"{where}: entry '{key}': loop {d} (size {s}) cannot be tiled by {t} here")
        choice = model.choice(forall, reduction)
        if choice is None:
            raise TuningDBError(f"{where}: entry '{key}': tiles {forall} / {reduction} need "
                                f"{model.ldm(forall, reduction)} bytes of LDM, over the budget of "
                                f"{model.ldm_budget} bytes on {tgt.name}")
        self.applied.append(key)
        return choice


def _bar(done: int, total: int, label: str, width: int = 30) -> None:
    if not sys.stderr.isatty() and done not in (total,):
        return
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:50]:<50}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


@dataclass
class GroupResult:
    key: str
    node: str
    kind: str
    loops: list
    heuristic_seconds: float
    best_seconds: float
    evaluated: int
    space: int
    search_seconds: float
    resumed: bool
    curve: list = field(default_factory=list)
    heuristic_state: tuple = ()
    best_state: tuple = ()

    @property
    def speedup(self) -> float:
        return self.heuristic_seconds / self.best_seconds if self.best_seconds else 1.0


class TuneSession:
    """Searches each distinct group once (by key), from the heuristic's choice, and records the result."""

    def __init__(self, db: TuningDB, method: str = "gbfs", budget: int = 200, seed: int = 0, progress=None,
                 options: dict | None = None):
        if method not in METHODS:
            raise TuningDBError(f"unknown tuning method '{method}'; methods: {', '.join(METHODS)}")
        self.db, self.method, self.budget, self.seed = db, method, int(budget), seed
        self.options = options or {}
        self.results: dict[str, GroupResult] = {}
        self.progress = progress

    def tiles_for(self, g, tgt, signature, heuristic):
        model = group_model(g, tgt)
        key = group_key(g, tgt, signature, model)
        space = group_space(model, key)
        h = heuristic()            # a ValueError (nothing fits) goes to the schedule, as without a tuner
        h_state = state_of(h, model.nest.parallel)
        h_cost = space.cost(h_state)
        if key in self.results:
            return model.choice(*space.split(self.results[key].best_state))
        t0 = time.perf_counter()
        old = self.db.get(key)
        start, resumed = h_state, False
        if old is not None:
            o_state = tuple(f if p else r for f, r, p in zip(old["config"]["forall"], old["config"]["reduction"],
                                                             model.nest.parallel))
            if space.legal(o_state) and space.cost(o_state) <= h_cost:
                start = o_state
            resumed = old["evaluated"] >= self.budget or old["method"] == "exhaustive"
        if resumed:
            best_state, evaluated, curve = start, old["evaluated"], []
        else:
            run = METHODS[self.method](space, self.budget, start, seed=self.seed, **self.options.get(self.method, {}))
            best_state = min((s for s in (start, run.best_state) if s is not None), key=space.cost)
            evaluated, curve = run.evaluations, run.curve
        best = space.cost(best_state)
        size = space.legal_count()
        f, r = space.split(best_state)
        res = GroupResult(key, _node(g), model.kind, list(model.nest.sizes), h_cost, best, evaluated, size,
                          time.perf_counter() - t0, resumed, curve, h_state, best_state)
        self.results[key] = res
        if not resumed:
            self.db.put({"key": key, "target": tgt.name, "kind": model.kind, "loops": list(model.nest.sizes),
                         "shapes": _shapes(g), "node": res.node, "config": {"forall": f, "reduction": r},
                         "seconds": best, "heuristic_seconds": h_cost, "method": self.method,
                         "evaluated": evaluated, "budget": self.budget, "space": size,
                         "search_seconds": round(res.search_seconds, 3)})
        if self.progress:
            self.progress(res)
        return model.choice(f, r)


def tune_model(model, target: str = "sw26010", *, method: str = "gbfs", budget: int = 200, db=None, seed: int = 0,
               input_shapes=None, progress=None, options=None) -> tuple[TuneSession, float]:
    """Tune every distinct group of `model` (path or ModelProto); returns the session and the seconds it took.
    `db`: a TuningDB or a path (created if missing) that is read to resume and appended to."""
    from swmlir.compiler import lower_to_stage
    from .hook import using
    db = db if isinstance(db, TuningDB) else TuningDB(db)
    session = TuneSession(db, method, budget, seed, progress, options)
    t0 = time.perf_counter()
    with using(session):
        lower_to_stage(model, "schedule", target=target, input_shapes=input_shapes)
    return session, time.perf_counter() - t0
