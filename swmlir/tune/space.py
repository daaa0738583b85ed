"""The schedule space of one tiling op, as the paper frames it (Zhang et al., arXiv 1909.10616, section 3).

Every loop of size N is split into two levels whose product is N: for a parallel loop, the number of work items
along it (the CPE distribution) times the tile a work item computes in LDM; for a reduction loop, the steps of the
split-K loop inside a work item times the reduction tile in LDM. A configuration (a state) is therefore one tile
size per loop, a divisor of its size (for a reduction loop, 0 means untiled: the whole loop in one step). Where
the paper's loop sizes are powers of two, a divisor is a power of two; a loop of size 56 also has 7, 14, 28.

An action moves one prime factor of a loop from one level to the other (the tile grows or shrinks by that
prime: a factor of 2 on power-of-two loops), or moves a factor of 2 from one loop's tile to another's (the tile
keeps its volume). The neighbours of a state are the states one action away. Legality (the LDM budget; the
divisibility is built into the options) is checked before a state is costed, and illegal states never count
against a budget.
"""
from __future__ import annotations

import itertools
import math
from typing import Callable

import numpy as np

INF = float("inf")


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _primes(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        if n % p == 0:
            out.append(p)
            while n % p == 0:
                n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


class Space:
    """Configurations of one tiling op. `cost(state)` is the modeled seconds of a legal state (None or inf when
    it cannot be built); `legal(state)` the cheap check done first (the LDM budget). States are tuples, one tile
    per loop (0 = an untiled reduction loop)."""

    def __init__(self, sizes: list[int], parallel: list[bool], cost: Callable, legal: Callable | None = None,
                 options: list[list[int]] | None = None, name: str = ""):
        self.sizes = [int(s) for s in sizes]
        self.parallel = list(parallel)
        self.name = name
        if options is None:
            options = [divisors(s) if p else [0] + divisors(s)[:-1] for s, p in zip(self.sizes, self.parallel)]
        self.options = [tuple(sorted(set(o))) for o in options]
        self._option_sets = [set(o) for o in self.options]
        self._cost_fn, self._legal_fn = cost, legal
        self._costs: dict = {}
        self._legal: dict = {}
        self._nbrs: dict = {}
        self._legal_count: int | None = None

    # -- states ------------------------------------------------------------------------------------------------
    def full(self, i: int, v: int) -> int:
        """The tile a value stands for (0 = the whole loop)."""
        return v if v else self.sizes[i]

    def _value(self, i: int, tile: int) -> int | None:
        v = 0 if (not self.parallel[i] and tile == self.sizes[i]) else tile
        return v if v in self._option_sets[i] else None

    def contains(self, state) -> bool:
        return len(state) == len(self.options) and all(v in s for v, s in zip(state, self._option_sets))

    def grid_size(self) -> int:
        return math.prod(len(o) for o in self.options)

    def states(self):
        return itertools.product(*self.options)

    def legal(self, state) -> bool:
        state = tuple(state)
        ok = self._legal.get(state)
        if ok is None:
            ok = self._legal[state] = self.contains(state) and (self._legal_fn is None or bool(self._legal_fn(state)))
        return ok

    def legal_count(self, limit: int = 2_000_000) -> int:
        """Legal configurations (the size of the space the fractions are of); the grid size when the grid is
        too large to enumerate."""
        if self._legal_count is None:
            n = self.grid_size()
            self._legal_count = sum(1 for s in self.states() if self.legal(s)) if n <= limit else n
        return self._legal_count

    def cost(self, state) -> float:
        """Modeled seconds (inf for a state that cannot be built); remembered, so the true cost of a state is
        computed once however many searches ask for it (searches count their own evaluations: Run)."""
        state = tuple(state)
        c = self._costs.get(state)
        if c is None:
            c = self._cost_fn(state) if self.legal(state) else None
            c = INF if c is None else float(c)
            self._costs[state] = c
        return c

    # -- the neighbourhood ---------------------------------------------------------------------------------------
    def moves(self, state) -> list[tuple]:
        """(action, neighbour) for every action valid in `state`: ('up'|'down', loop) moves a prime factor of
        the loop between its levels, ('swap', i, j) a factor of 2 from loop j's tile to loop i's."""
        state = tuple(state)
        found = self._nbrs.get(state)
        if found is not None:
            return found
        out = []
        for i, v in enumerate(state):
            t = self.full(i, v)
            n = self.sizes[i]
            for p in _primes(n // t):
                w = self._value(i, t * p)
                if w is not None:
                    out.append((("up", i, p), state[:i] + (w,) + state[i + 1:]))
            for p in _primes(t):
                w = self._value(i, t // p)
                if w is not None:
                    out.append((("down", i, p), state[:i] + (w,) + state[i + 1:]))
        for i, j in itertools.permutations(range(len(state)), 2):
            ti, tj = self.full(i, state[i]), self.full(j, state[j])
            if tj % 2 or (self.sizes[i] // ti) % 2:
                continue
            wi, wj = self._value(i, ti * 2), self._value(j, tj // 2)
            if wi is not None and wj is not None:
                s = list(state)
                s[i], s[j] = wi, wj
                out.append((("swap", i, j), tuple(s)))
        self._nbrs[state] = out
        return out

    def neighbours(self, state) -> list[tuple]:
        return [n for _, n in self.moves(state)]

    def random_state(self, rng: np.random.Generator, tries: int = 1000):
        """A uniformly random legal state (None if none found in `tries` draws)."""
        for _ in range(tries):
            s = tuple(o[int(rng.integers(len(o)))] for o in self.options)
            if self.legal(s):
                return s
        return None

    def unit_state(self):
        """The paper's start s0: every factor in the outer level (unit tiles; an untiled reduction loop of
        size 1 stays 0)."""
        return tuple(min(o, key=lambda v: self.full(i, v)) for i, o in enumerate(self.options))

    def features(self, state) -> np.ndarray:
        """Knob features (AutoTVM's 'knob' kind): log2 of each level of each loop."""
        f = []
        for i, v in enumerate(state):
            t = self.full(i, v)
            f += [math.log2(t), math.log2(self.sizes[i] // t)]
        return np.array(f, dtype=np.float64)


class Run:
    """One search's view of a space: its evaluations (distinct legal states costed) against its budget, and the
    best-so-far curve (the convergence plot)."""

    def __init__(self, space: Space, budget: int):
        self.space, self.budget = space, int(budget)
        self.seen: dict = {}
        self.best_state, self.best_cost = None, INF
        self.curve: list[float] = []      # best cost after each evaluation
        self.rejected = 0                 # illegal states met (checked, never costed)

    def left(self) -> bool:
        return len(self.seen) < self.budget

    def evaluate(self, state) -> float:
        """Cost of a state; a new legal state counts as one evaluation (illegal ones: inf, not counted)."""
        state = tuple(state)
        if state in self.seen:
            return self.seen[state]
        if not self.space.legal(state):
            self.rejected += 1
            return INF
        c = self.space.cost(state)
        self.seen[state] = c
        if c < self.best_cost:
            self.best_state, self.best_cost = state, c
        self.curve.append(self.best_cost)
        return c

    @property
    def evaluations(self) -> int:
        return len(self.seen)
