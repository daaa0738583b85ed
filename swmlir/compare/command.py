"""`swmlir compare MODEL ...`: the command line of swmlir.compare (its parser is added to `swmlir`'s here)."""
from __future__ import annotations

import sys


def add_parser(sub) -> None:
    from ..targets import TARGETS
    from .stages import DEFAULT_STAGES, STAGES
    c = sub.add_parser("compare", help="check every node output against onnxruntime at each stage; name the "
                                       "first node and stage that diverge")
    c.add_argument("model")
    c.add_argument("--inputs", help=".npz keyed by graph input names (default: random inputs)")
    c.add_argument("--stages", default=",".join(DEFAULT_STAGES),
                   help=f"comma-separated, of {', '.join(STAGES)} (default: %(default)s)")
    c.add_argument("--target", default="sw26010", choices=sorted(TARGETS))
    c.add_argument("--rtol", type=float, default=1e-4)
    c.add_argument("--atol", type=float, default=1e-5,
                   help="absolute tolerance in units of each value's largest magnitude (at least 1)")
    c.add_argument("--excepts", default="", help="NODE,... node (or value) names whose differences are shown "
                                                 "but do not count as divergences")
    c.add_argument("--json", help="write the report as JSON (swmlir.compare.Report.from_json reads it)")
    c.add_argument("--schedule", default="model", choices=("model", "baseline"))
    c.add_argument("--input-shape", action="append", help="name=d0,d1,... for inputs with unknown dims")
    c.add_argument("--seed", type=int, default=0, help="of the random inputs")
    c.add_argument("--jobs", type=int, default=1, help="stages run at once, each in a process of its own "
                                                       "(ResNet-50: about 1.3 GB each)")
    c.add_argument("--tuning-db", help="tiles from this tuning database (swmlir tune) where it has them")
    c.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    c.set_defaults(fn=main)


def main(a) -> int:
    from .. import cli
    from . import compare
    if a.json:
        cli._out_file_check(a.json, "--json")
    feeds = None
    shapes = cli._shapes(a.input_shape)
    if a.inputs:
        feeds = cli._read_inputs(a.inputs, cli._graph_input_specs(a.model))
    progress = None if a.quiet else (lambda text: print(f"swmlir compare: {text}", file=sys.stderr, flush=True))
    report = compare(a.model, feeds, stages=a.stages, target=a.target, rtol=a.rtol, atol=a.atol,
                     excepts=[e.strip() for e in a.excepts.split(",") if e.strip()], input_shapes=shapes,
                     schedule=a.schedule, seed=a.seed, jobs=a.jobs, tuning_db=a.tuning_db, progress=progress)
    if a.inputs:
        report.inputs = a.inputs
    print(report.table())
    if a.json:
        with open(a.json, "w") as f:
            f.write(report.to_json())
    return 0 if report.ok else 1
