"""N-A2C, the neighbourhood actor-critic of Zhang et al. (arXiv 1909.10616, section 4.2; US 11842178, claim 5),
in numpy.

The agent walks the space by the actions of space.py (a prime factor of a loop moved between its two levels, or
a factor of 2 moved between two loops' tiles). Its exploration is kept to the neighbourhood of the best state
found so far: every episode starts from that state and takes at most `steps` actions (the neighbourhood's
radius). An actor (a one-hidden-layer network, softmax over the actions valid in the state, those leading to
unvisited states preferred) chooses each action; a critic (same shape, one output) estimates the value of a
state. The reward of a step is the cost reduction relative to the episode's starting cost,
r = (c(s) - c(s')) / c(s0), clipped to [-1, 1], and -1 for an illegal move (the agent stays). After each step the
advantage δ = r + γ V(s') - V(s) updates the critic (TD(0)) and the actor (δ ∇ log π(a|s), plus an entropy
bonus). Revisiting a state costs nothing (its cost is remembered); only new states spend the budget. Where the
paper leaves details open (network size, reward scale, radius), docs/tuning.md gives ours; all are arguments here.
"""
from __future__ import annotations

import numpy as np

from .space import INF, Run, Space


class _Net:
    """x -> tanh(W1 x + b1) -> W2 h + b2, with the gradient step done by hand."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, rng: np.random.Generator, scale: float = 0.1):
        self.w1 = rng.normal(0, 1 / np.sqrt(n_in), (n_hidden, n_in))
        self.b1 = np.zeros(n_hidden)
        self.w2 = rng.normal(0, scale / np.sqrt(n_hidden), (n_out, n_hidden))
        self.b2 = np.zeros(n_out)

    def forward(self, x):
        h = np.tanh(self.w1 @ x + self.b1)
        return h, self.w2 @ h + self.b2

    def step(self, x, h, grad_out, lr: float):
        """Gradient ascent on out·grad_out."""
        gh = (self.w2.T @ grad_out) * (1 - h * h)
        self.w2 += lr * np.outer(grad_out, h)
        self.b2 += lr * grad_out
        self.w1 += lr * np.outer(gh, x)
        self.b1 += lr * gh


def _action_keys(n: int) -> list[tuple]:
    keys = [("up", i) for i in range(n)] + [("down", i) for i in range(n)]
    return keys + [("swap", i, j) for i in range(n) for j in range(n) if i != j]


def na2c(space: Space, budget: int, start=None, *, steps: int = 3, hidden: int = 32, lr_actor: float = 0.05,
         lr_critic: float = 0.05, gamma: float = 0.9, epsilon: float = 0.1, entropy: float = 0.01,
         seed: int = 0) -> Run:
    rng = np.random.default_rng(seed)
    run = Run(space, budget)
    n = len(space.sizes)
    keys = _action_keys(n)
    index = {k: a for a, k in enumerate(keys)}
    scale = np.array([max(1.0, np.log2(s)) for s in space.sizes for _ in (0, 1)])
    actor = _Net(2 * n + 1, hidden, len(keys), rng)
    critic = _Net(2 * n + 1, hidden, 1, rng)

    def phi(s):
        return np.append(space.features(s) / scale, 1.0)

    def moves_of(s):
        """Action index -> neighbour (the smallest prime where a loop has several)."""
        out = {}
        for (kind, i, p), nb in space.moves(s):
            key = (kind, i) if kind != "swap" else (kind, i, p)
            a = index[key]
            if a not in out:
                out[a] = nb
        return out

    start = tuple(start) if start is not None else space.unit_state()
    run.evaluate(start)
    if run.best_state is None:   # an illegal start: begin from a random legal state
        s = space.random_state(rng)
        if s is None:
            return run
        run.evaluate(s)
    radius, idle, total = steps, 0, 0
    while run.left() and total < 50 * max(budget, 1) and idle < 200:
        s = run.best_state
        c0 = run.best_cost
        before = run.evaluations
        for _ in range(radius):
            options = moves_of(s)
            if not options:
                break
            fresh = [a for a, nb in options.items() if nb not in run.seen and space.legal(nb)]
            allowed = fresh or list(options)
            x = phi(s)
            h, logits = actor.forward(x)
            z = logits[allowed] - logits[allowed].max()
            p = np.exp(z) / np.exp(z).sum()
            k = int(rng.integers(len(allowed))) if rng.random() < epsilon else int(rng.choice(len(allowed), p=p))
            a = allowed[k]
            nxt = options[a]
            c, c_next = run.seen.get(s, INF), run.evaluate(nxt)
            if c_next == INF:
                r, nxt = -1.0, s
            else:
                r = float(np.clip((c - c_next) / c0, -1.0, 1.0))
            hc, v = critic.forward(x)
            _, v_next = critic.forward(phi(nxt))
            delta = r + gamma * float(v_next[0]) - float(v[0])
            critic.step(x, hc, np.array([delta]), lr_critic)
            g = np.zeros(len(keys))
            g[allowed] = -p          # d log pi(a) / d logits = onehot(a) - p, on the allowed actions
            g[a] += 1.0
            g *= delta
            # entropy bonus on the allowed actions: d/dz of -sum p log p
            ent = -p * (np.log(p + 1e-12) - float((p * np.log(p + 1e-12)).sum()))
            g[allowed] += entropy * ent
            actor.step(x, h, g, lr_actor)
            s = nxt
            total += 1
            if not run.left():
                break
        if run.evaluations == before:
            idle += 1
            radius = min(radius + 1, 4 * steps)   # nothing new this close: look further out
        else:
            idle = 0
            if run.best_cost < c0:
                radius = steps
    return run
