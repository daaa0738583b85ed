"""Progress displays for long work: compiles of large models (by stage, and through the weights),
`swmlir conformance` (tests done of the total, with the pass count) and `swmlir bench` (compile, emulator runs).

One rule decides whether anything is drawn: a display is on when stderr is a terminal, off otherwise, so CI logs,
pipes and test output do not change. `--progress` / `--no-progress` on the commands (configure()) or
SWMLIR_PROGRESS=1 / 0 in the environment force it on or off; under pytest (PYTEST_CURRENT_TEST set) the automatic
choice is off. Displays go to stderr; stdout is never touched, except by `write`, which prints a line above the
bar (or plainly, when the display is off).

tqdm draws the bars when it is installed (it is a dependency); without it a plain one-line display on stderr,
rewritten in place, stands in.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import time

try:
    from tqdm import tqdm as _tqdm
except ImportError:  # pragma: no cover - tqdm is a dependency; the plain display below stands in without it
    _tqdm = None

ENV = "SWMLIR_PROGRESS"
_forced: bool | None = None   # set by configure() (the command line's --progress / --no-progress)


def configure(flag: bool | None) -> None:
    """--progress (True), --no-progress (False) or neither (None: the environment, then the terminal decide)."""
    global _forced
    _forced = flag


def enabled() -> bool:
    """Whether displays are drawn: configure()'s flag, else SWMLIR_PROGRESS, else stderr is a terminal (and this
    is not a test run)."""
    if _forced is not None:
        return _forced
    env = os.environ.get(ENV, "").strip().lower()
    if env in ("1", "true", "yes", "on"):
        return True
    if env in ("0", "false", "no", "off"):
        return False
    if "PYTEST_CURRENT_TEST" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    err = sys.stderr
    try:
        return bool(err is not None and err.isatty())
    except (AttributeError, ValueError):   # a replaced or closed stderr
        return False


class Progress:
    """One bar: `total` steps of `unit`. update(n) advances it, set_postfix(text) shows what is going on,
    write(line) prints a line above it. With on=False every method is a no-op except write (a plain print).
    `delay`: seconds before it first shows (short work shows nothing); `leave`: keep the finished bar's line;
    `eta`: show the rate and the time left (not for steps of very unequal length)."""

    def __init__(self, total: int | None, desc: str = "", unit: str = "it", *, on: bool | None = None,
                 delay: float = 0.0, leave: bool = True, unit_scale: bool = False, eta: bool = True):
        self.on = enabled() if on is None else on
        self.total, self.desc, self.unit, self.delay, self.leave = total, desc, unit, delay, leave
        self.unit_scale = unit_scale
        self.n, self.postfix = 0, ""
        self._t = None
        self._start = time.monotonic()
        self._last = 0.0
        self._shown = False   # the plain display: something was drawn and the line must be cleared
        if self.on and _tqdm is not None:
            fmt = None if eta else "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} " + unit + \
                " [{elapsed}]{postfix}"
            self._t = _tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, delay=delay, leave=leave,
                            unit_scale=unit_scale, dynamic_ncols=True, mininterval=0.2, bar_format=fmt)

    # -- the bar
    def update(self, n: int = 1) -> None:
        if not self.on:
            return
        self.n += n
        if self._t is not None:
            self._t.update(n)
        else:
            self._draw()

    def set_postfix(self, text: str, refresh: bool = True) -> None:
        """Show `text` after the bar; refresh=False: with the next update()."""
        if not self.on:
            return
        self.postfix = text
        if self._t is not None:
            self._t.set_postfix_str(text, refresh=False)
            if refresh:
                self._refresh()
        elif refresh:
            self._draw()

    def set_description(self, text: str) -> None:
        if not self.on:
            return
        self.desc = text
        if self._t is not None:
            self._t.set_description_str(text, refresh=False)
            self._refresh()
        else:
            self._draw()

    def write(self, line: str, file=None) -> None:
        """Print a line (to stdout by default) without breaking the bar."""
        file = file or sys.stdout
        if self._t is not None:
            _tqdm.write(line, file=file)
            return
        if self._shown:
            self._clear()
        print(line, file=file, flush=True)
        if self._shown:
            self._draw(force=True)

    def close(self) -> None:
        if not self.on:
            return
        self.on = False
        if self._t is not None:
            self._t.close()
        elif self._shown:
            if self.leave:
                self._draw(force=True, always=True)
                sys.stderr.write("\n")
            else:
                self._clear()
            sys.stderr.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- internals
    def _due(self, force: bool = False) -> bool:
        now = time.monotonic()
        if now - self._start < self.delay:
            return False
        if not force and now - self._last < 0.2 and not (self.total and self.n >= self.total):
            return False
        self._last = now
        return True

    def _refresh(self) -> None:
        if self._due():
            self._t.refresh()
            self._t.last_print_t = self._t._time()   # tqdm's close() clears only a bar it knows it drew

    def _text(self) -> str:
        def amount(v):
            if not self.unit_scale:
                return str(v)
            for scale, prefix in ((1 << 30, "G"), (1 << 20, "M"), (1 << 10, "k")):
                if v >= scale:
                    return f"{v / scale:.1f}{prefix}"
            return str(v)
        count = f"{amount(self.n)}/{amount(self.total)}" if self.total else amount(self.n)
        pct = f"{100 * self.n // self.total:3d}% " if self.total else ""
        elapsed = int(time.monotonic() - self._start)
        return (f"{self.desc + ': ' if self.desc else ''}{pct}{count} {self.unit} [{elapsed // 60:02d}:"
                f"{elapsed % 60:02d}]{' ' + self.postfix if self.postfix else ''}")

    def _draw(self, force: bool = False, always: bool = False) -> None:
        if not always and not self._due(force):
            return
        text = self._text()[:_width() - 1]
        sys.stderr.write("\r" + text.ljust(_width() - 1))
        sys.stderr.flush()
        self._shown = True

    def _clear(self) -> None:
        sys.stderr.write("\r" + " " * (_width() - 1) + "\r")
        sys.stderr.flush()


def _width() -> int:
    try:
        return max(40, os.get_terminal_size(sys.stderr.fileno()).columns)
    except (OSError, ValueError, AttributeError):
        return 100


def bar(total: int | None, desc: str = "", unit: str = "it", **kw) -> Progress:
    """A progress display (see Progress); drawn only when enabled() says so (or on=True)."""
    return Progress(total, desc, unit, **kw)


class Stages:
    """A compile's display by stage: begin(stage) moves to a stage (the ones before it count as done),
    note(label) shows the pass that just ended (and moves to its stage when it is given)."""

    def __init__(self, names: list[str], desc: str, **kw):
        self.names, self.i = list(names), -1
        self.bar = Progress(len(self.names), desc, "stages", eta=False, **kw)

    def begin(self, name: str) -> None:
        if name not in self.names:
            return
        j = self.names.index(name)
        if j <= self.i:
            return
        self.bar.update(j - self.bar.n)
        self.i = j
        self.bar.set_postfix(name)

    def note(self, label: str, stage: str | None = None) -> None:
        """A pass ended: `label` is "stage: pass{options}" (the pipeline's timing callback)."""
        if stage:
            self.begin(stage)
        where, _, step = label.partition(": ")
        step = step.split("{")[0]
        self.bar.set_postfix(f"{where} (after {step})" if step else where)

    def close(self) -> None:
        if self.bar.on and self.bar.n < len(self.names):
            self.bar.update(len(self.names) - self.bar.n)
        self.bar.close()


class _NoStages(Stages):
    def __init__(self):
        self.names, self.i = [], -1
        self.bar = Progress(None, on=False)


_CURRENT: contextvars.ContextVar[Stages | None] = contextvars.ContextVar("swmlir_progress_stages", default=None)


def current() -> Stages:
    """The display of the compile under way (a no-op one outside compiling())."""
    return _CURRENT.get() or _NoStages()


@contextlib.contextmanager
def compiling(names: list[str], desc: str, **kw):
    """A Stages display for the code inside, reached through current(); nested compiles get their own."""
    st = Stages(names, desc, **kw)
    token = _CURRENT.set(st)
    try:
        yield st
    finally:
        _CURRENT.reset(token)
        st.close()
