"""The tuning database: one JSON object per line (JSONL), the best configuration known for one fusion group on
one target. `swmlir tune` appends to it (a later line for the same key wins), `swmlir compile --tuning-db`
applies it.

The key names the group as a reader would and as the schedule sees it: target, op kind, the loop sizes of the
tiling op, and a digest of the group's structural signature (passes/schedule.py::_signature: every op's maps,
iterators, body, operand shapes and dtypes, which operands are weights), so that equal groups of different
models share their entry and groups that merely share loop sizes do not. The operand shapes and dtypes are
stored beside it for people.

A line that is not a JSON object with the fields below, of the right types, is refused with its file and line
(TuningDBError); a configuration that does not fit its group (wrong number of loops, a tile that does not divide
its loop, over the LDM budget) is refused when it is applied, with its key.
"""
from __future__ import annotations

import json
import os

from swmlir.errors import CompileError

VERSION = 1

# field -> accepted types
FIELDS = {"key": str, "target": str, "kind": str, "loops": list, "config": dict, "seconds": (int, float),
          "heuristic_seconds": (int, float), "method": str, "evaluated": int, "space": int}


class TuningDBError(CompileError):
    """A tuning database that cannot be read or an entry that cannot be applied."""

    def __init__(self, message: str):
        super().__init__(message, stage="tune")


def _check_entry(e, where: str) -> dict:
    if not isinstance(e, dict):
        raise TuningDBError(f"{where}: expected a JSON object, got {type(e).__name__}")
    missing = [k for k in FIELDS if k not in e]
    if missing:
        raise TuningDBError(f"{where}: entry misses the field(s) {', '.join(missing)}")
    for k, t in FIELDS.items():
        if not isinstance(e[k], t) or isinstance(e[k], bool):
            raise TuningDBError(f"{where}: field '{k}' should be {getattr(t, '__name__', 'a number')}, "
                                f"got {json.dumps(e[k])[:60]}")
    cfg = e["config"]
    for part in ("forall", "reduction"):
        v = cfg.get(part)
        if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v):
            raise TuningDBError(f"{where}: config.{part} should be a list of tile sizes (integers >= 0), got "
                                f"{json.dumps(v)[:60]}")
        if len(v) != len(e["loops"]):
            raise TuningDBError(f"{where}: config.{part} has {len(v)} tiles for {len(e['loops'])} loops")
    if not all(isinstance(x, int) and x > 0 for x in e["loops"]):
        raise TuningDBError(f"{where}: field 'loops' should be a list of loop sizes (positive integers)")
    return e


class TuningDB:
    """Entries by key; `where[key]` is the file and line of the entry in force."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = os.fspath(path) if path is not None else None
        self.entries: dict[str, dict] = {}
        self.where: dict[str, str] = {}
        if self.path and os.path.exists(self.path):
            self._load()

    def _load(self) -> None:
        if os.path.isdir(self.path):
            raise TuningDBError(f"tuning database '{self.path}' is a folder, expected a .jsonl file")
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise TuningDBError(f"cannot read tuning database '{self.path}': {getattr(e, 'strerror', None) or e}") \
                from None
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{self.path}:{n}"
            try:
                e = json.loads(line)
            except json.JSONDecodeError as err:
                raise TuningDBError(f"{where}: not a JSON object ({err.msg} at column {err.colno})") from None
            e = _check_entry(e, where)
            self.entries[e["key"]] = e
            self.where[e["key"]] = where

    @classmethod
    def open(cls, db) -> "TuningDB":
        """A TuningDB, or one read from a path; a path that does not exist is refused (a typo would silently
        compile the heuristic's schedule)."""
        if isinstance(db, TuningDB):
            return db
        path = os.fspath(db)
        if not os.path.exists(path):
            raise TuningDBError(f"tuning database '{path}' does not exist (swmlir tune MODEL --db {path} writes it)")
        return cls(path)

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)

    def put(self, entry: dict) -> None:
        """Record an entry (and append it to the file)."""
        entry = dict(entry, version=VERSION)
        _check_entry(entry, "new entry")
        self.entries[entry["key"]] = entry
        if self.path:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")
            self.where[entry["key"]] = f"{self.path}:(appended)"

    def __len__(self) -> int:
        return len(self.entries)
