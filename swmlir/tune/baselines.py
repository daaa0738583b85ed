"""The searches G-BFS and N-A2C are measured against, at the same budget of evaluations: random search,
simulated annealing over the same neighbourhood, an XGBoost cost-model search in AutoTVM's manner, and the
exhaustive search that gives the true optimum where the space is small enough."""
from __future__ import annotations

import math

import numpy as np

from .space import INF, Run, Space


def random_search(space: Space, budget: int, start=None, *, seed: int = 0) -> Run:
    """Uniformly random legal states, without repetition (the start first, when given)."""
    rng = np.random.default_rng(seed)
    run = Run(space, budget)
    if start is not None:
        run.evaluate(start)
    misses = 0
    while run.left() and misses < 2000:
        s = space.random_state(rng)
        if s is None or s in run.seen:
            misses += 1
            continue
        run.evaluate(s)
    return run


def anneal(space: Space, budget: int, start=None, *, t0: float = 0.3, t1: float = 0.003, seed: int = 0) -> Run:
    """Simulated annealing on log cost: a random neighbour is taken if better, else with probability
    exp(-Δ log c / T); T falls geometrically from t0 to t1 over the budget."""
    rng = np.random.default_rng(seed)
    run = Run(space, budget)
    s = tuple(start) if start is not None else space.unit_state()
    c = run.evaluate(s)
    if c == INF:
        s = space.random_state(rng)
        if s is None:
            return run
        c = run.evaluate(s)
    steps = 0
    while run.left() and steps < 50 * max(budget, 1):
        steps += 1
        nbrs = space.neighbours(s)
        if not nbrs:
            break
        nxt = nbrs[int(rng.integers(len(nbrs)))]
        cn = run.evaluate(nxt)
        if cn == INF:
            continue
        t = t0 * (t1 / t0) ** min(1.0, run.evaluations / max(budget, 1))
        if cn <= c or rng.random() < math.exp(-(math.log(cn) - math.log(c)) / t):
            s, c = nxt, cn
    return run


def xgb_search(space: Space, budget: int, start=None, *, batch: int = 16, pool: int = 512, epsilon: float = 0.1,
               seed: int = 0) -> Run:
    """AutoTVM's model-based tuner, in miniature: measure a batch, fit a gradient-boosted model of log cost on the
    knob features (xgboost), take the next batch as the states of least predicted cost among a candidate pool
    (random legal states and the neighbours of the best measured ones), with an ε share of random picks."""
    import xgboost as xgb
    rng = np.random.default_rng(seed)
    run = Run(space, budget)
    if start is not None:
        run.evaluate(start)
    first = random_search(space, min(budget, batch), None, seed=seed)
    for s in first.seen:
        if run.left():
            run.evaluate(s)
    while run.left():
        data = [(s, c) for s, c in run.seen.items() if c < INF]
        if len(data) < 2:
            break
        x = np.array([space.features(s) for s, _ in data])
        y = np.log(np.array([c for _, c in data]))
        booster = xgb.train({"max_depth": 5, "eta": 0.3, "objective": "reg:squarederror", "nthread": 1,
                             "seed": seed, "verbosity": 0}, xgb.DMatrix(x, label=y), num_boost_round=60)
        cands: set = set()
        for s, _ in sorted(data, key=lambda d: d[1])[:8]:
            cands.update(n for n in space.neighbours(s) if n not in run.seen and space.legal(n))
        for _ in range(pool):
            s = space.random_state(rng, tries=50)
            if s is not None and s not in run.seen:
                cands.add(s)
        if not cands:
            break
        cands = sorted(cands)
        pred = booster.predict(xgb.DMatrix(np.array([space.features(s) for s in cands])))
        order = [cands[i] for i in np.argsort(pred, kind="stable")]
        picked = 0
        for s in order:
            if not run.left() or picked >= batch:
                break
            if rng.random() < epsilon:
                s = cands[int(rng.integers(len(cands)))]
            if s in run.seen:
                continue
            run.evaluate(s)
            picked += 1
        if picked == 0:
            break
    return run


def exhaustive(space: Space, budget: int | None = None, start=None, **_) -> Run:
    """Every legal state (the budget is ignored): the true optimum and the space's size."""
    run = Run(space, space.legal_count() + 1)
    for s in space.states():
        if space.legal(s):
            run.evaluate(s)
    return run
