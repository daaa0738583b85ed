"""G-BFS, the greedy best-first search of Zhang et al. (arXiv 1909.10616, section 4.1; US 11842178, claims 3-4).

A priority queue of evaluated states ordered by cost; start with s0. Repeatedly pop the best state, choose at
random ρ of its neighbours not visited before (1 <= ρ <= number of neighbours), evaluate them and push them.
Stop when the budget of evaluations is spent; return the best state seen. Popped states are not pushed again (as
in the paper); when the queue runs dry before the budget, the search restarts from a random unvisited state.
"""
from __future__ import annotations

import heapq

import numpy as np

from .space import INF, Run, Space


def gbfs(space: Space, budget: int, start=None, *, rho: int = 5, seed: int = 0) -> Run:
    rng = np.random.default_rng(seed)
    run = Run(space, budget)
    visited: set = set()
    heap: list = []
    tick = 0

    def visit(s):
        nonlocal tick
        visited.add(s)
        c = run.evaluate(s)
        if c < INF:
            heapq.heappush(heap, (c, tick, s))
            tick += 1

    visit(tuple(start) if start is not None else space.unit_state())
    stale = 0
    while run.left() and stale < 1000:
        if not heap:
            s = space.random_state(rng)
            if s is None or s in visited:
                stale += 1
                continue
            visit(s)
            continue
        _, _, s = heapq.heappop(heap)
        fresh = [n for n in space.neighbours(s) if n not in visited]
        if not fresh:
            continue
        pick = rng.choice(len(fresh), size=min(rho, len(fresh)), replace=False)
        for k in sorted(pick):
            visit(fresh[k])
            if not run.left():
                break
    return run
