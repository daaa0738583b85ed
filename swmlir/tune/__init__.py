"""swmlir tune: search the schedule space of every fusion group of a model (the G-BFS and N-A2C methods of Zhang
et al., arXiv 1909.10616, with random, annealing, XGBoost and exhaustive baselines) and keep the best
configurations in a tuning database that `swmlir compile --tuning-db` applies.

  space.py     configurations, legality, the factor-moving neighbourhood
  cost.py      the cost of one configuration of a fusion group (the compiler's analytic model)
  gbfs.py      greedy best-first search
  na2c.py      neighbourhood actor-critic (numpy)
  baselines.py random search, simulated annealing, XGBoost cost-model search, exhaustive
  db.py        the tuning database (JSONL)
  hook.py      how the schedule pass consults the active database or tuner
  driver.py    tune every distinct group of a model; METHODS
See docs/tuning.md.
"""
