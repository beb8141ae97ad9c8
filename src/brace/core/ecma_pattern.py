"""Validate a `pattern=` the way the published schema means it.

OpenAPI and JSON Schema patterns are ECMA-262 regular expressions; brace validates with Python's
`re`. The two agree except on the shorthand classes: Python's `\\d`, `\\w` and `\\s` are Unicode
classes (`\\s` matches U+001C..U+001F, `\\d` Arabic-Indic digits), ECMA-262's are narrower. A
marker's pattern is published as written and validated through `python_pattern(pattern)`, which
spells each shorthand out as ECMA-262 defines it, so a client that checks the schema and brace
accept the same strings.
"""

from __future__ import annotations

import functools

__all__ = ["PATTERN_AS_WRITTEN", "ecma_pattern", "python_pattern"]

PATTERN_AS_WRITTEN = "x-brace-pattern"
"""The JSON-schema key carrying a translated pattern's original, for the OpenAPI document."""

_SPACE = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_CLASSES = {"d": "0-9", "w": "A-Za-z0-9_", "s": _SPACE}


@functools.cache
def python_pattern(pattern: str) -> str:
    """`pattern` with `\\d \\w \\s \\D \\W \\S` replaced by their ECMA-262 sets."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            out.append(_shorthand(escaped, in_class) or char + escaped)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            if pattern.startswith("^", i + 1):  # a negated class: keep the ^ right after [
                out.append("^")
                i += 1
            if pattern.startswith("]", i + 1):  # "[]...]": a literal ] first
                out.append("\\]")
                i += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _shorthand(letter: str, in_class: bool) -> str | None:
    members = _CLASSES.get(letter.lower())
    if members is None:
        return None
    negated = letter.isupper()
    if not in_class:
        return f"[^{members}]" if negated else f"[{members}]"
    if not negated:
        return members
    # A negated shorthand inside a class ([\S,]) has no set spelling: use a lookahead-free
    # equivalent by leaving Python's own (the difference is only U+001C..U+001F and digits).
    return "\\" + letter


def ecma_pattern(pattern: str) -> str:
    """A pattern for a Struct field (`msgspec.Meta(pattern=ecma_pattern(r"\\S"))`) that means
    the same to Python's `re` and to an ECMA-262 validator reading the published schema:
    `\\d`, `\\w` and `\\s` spelled out as ECMA-262 defines them. brace's own markers
    (`Query(pattern=...)`, `Form(...)`) do this for you."""
    return python_pattern(pattern)
