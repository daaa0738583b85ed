"""ONNX names as they may appear in the emitted files (C, headers, build files, the weights manifest).

Graph, tensor and node names are untrusted text from the model: written verbatim into a comment, `*/` would
end it and let the model add C that `swmlir run` builds and executes. Every name that reaches an emitted file
goes through `comment` (for comments and tables) or `Namer`/`fragment` (for identifiers), and nowhere else.
"""
from __future__ import annotations

import re

# C and C++ keywords, and names every C program knows
_TAKEN = frozenset("""
    auto break case char const continue default do double else enum extern float for goto if inline int long
    register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
    alignas alignof bool constexpr false nullptr static_assert thread_local true typeof typeof_unqual
    asm class delete explicit friend mutable namespace new operator private protected public template this
    throw try catch typename using virtual
    main NULL EOF errno assert offsetof
""".split())

# our runtime and the athread and CRTS APIs (prefixes), reserved C names (leading underscore), typedefs and macros of
# <stdint.h>/<stddef.h> (`_t`, `_MAX`, `_MIN`, `_C`)
_RESERVED = re.compile(r"^(_|swmlir_|SWMLIR_|athread_|slave_|SLAVE_|ldm_|PE_|CRTS_|crts_)|(_t|_MAX|_MIN|_C)$")

MAX_IDENT = 63   # C99 significant characters of an internal identifier


def comment(text: str, limit: int = 200) -> str:
    """`text` safe inside a C block comment and on one line of any emitted file: printable ASCII only (other
    characters as \\xNN/\\uNNNN escapes), no `*` next to `/`, no trigraph, at most `limit` characters
    (and a space at either end that could join a delimiter around it)."""
    s = "".join(c if " " <= c <= "~" else c.encode("unicode_escape").decode("ascii") if ord(c) < 0x80
                else c.encode("ascii", "backslashreplace").decode("ascii") for c in text)
    if len(s) > limit:
        s = s[:limit] + "..."
    s = re.sub(r"\*(?=/)|/(?=\*)|\?(?=\?)", lambda m: m.group(0) + " ", s)
    # the text may be written right after `/*` or before `*/`; a trailing backslash would continue a `#` line
    return (" " if s[:1] in ("*", "/") else "") + s + (" " if s[-1:] in ("*", "/", "\\") else "")


def fragment(text: str, limit: int = 40) -> str:
    """`text` reduced to identifier characters, for a part of an identifier the caller makes unique."""
    return re.sub(r"[^0-9A-Za-z_]", "_", text).strip("_")[:limit]


class Namer:
    """Distinct C identifiers for arbitrary names, none of them a keyword or a name of our API or headers.

    Two names that reduce to the same identifier (`a-b`, `a_b`) get `a_b` and `a_b_2`."""

    def __init__(self):
        self.used: set[str] = set()

    def __call__(self, name: str, fallback: str = "t") -> str:
        base = re.sub(r"[^0-9A-Za-z_]", "_", name)[:MAX_IDENT - 8] or fallback
        if base[0].isdigit() or base in _TAKEN or _RESERVED.search(base):
            base = f"{fallback}_{base}"
        ident, k = base, 1
        while ident in self.used:
            k += 1
            ident = f"{base}_{k}"
        self.used.add(ident)
        return ident
