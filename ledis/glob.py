"""Glob-style matching exactly like Redis's ``stringmatchlen`` (KEYS, SCAN MATCH, PSUBSCRIBE...).

Python's ``fnmatch`` differs from Redis in ways clients can see: Redis has backslash escapes
(``\\*`` is a literal star, also inside ``[...]``), ``[^a]`` negation, reversed ranges
(``[z-a]`` == ``[a-z]``), an unterminated ``[`` that still matches what it listed so far, and
bytes compared as *signed* chars in ranges. So this module is a direct port of
``stringmatchlen_impl`` from Redis 7.0 ``util.c`` (including the ``skipLongerMatches`` cut that
keeps ``*a*a*a*b``-style patterns linear instead of exponential), working on bytes.

:func:`compile` returns a fast predicate: patterns without special characters become an
equality test, ``prefix*`` a ``startswith``; the rest use :func:`match`.
:func:`literal_prefix` gives the leading literal part, which SCAN/KEYS use to seek straight to
the matching key range.
"""

from __future__ import annotations

from collections.abc import Callable

_SPECIAL = frozenset(b"*?[\\")


def _signed(c: int) -> int:
    return c - 256 if c >= 128 else c


def match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """True when ``string`` matches the Redis glob ``pattern``."""
    if nocase:
        pattern = pattern.lower()
        string = string.lower()
    return _match(pattern, 0, string, 0, [False])


def _match(p: bytes, pi: int, s: bytes, si: int, skip: list[bool]) -> bool:
    plen = len(p)
    slen = len(s)

    def pat(i: int) -> int:  # C strings are NUL-terminated: reading past the end gives 0
        return p[i] if i < plen else 0

    while pi < plen and si < slen:
        c = p[pi]
        if c == 0x2A:  # '*'
            while pi + 1 < plen and p[pi + 1] == 0x2A:
                pi += 1
            if pi + 1 == plen:
                return True
            while si < slen:
                if _match(p, pi + 1, s, si, skip):
                    return True
                if skip[0]:
                    return False
                si += 1
            skip[0] = True
            return False
        elif c == 0x3F:  # '?'
            si += 1
        elif c == 0x5B:  # '['
            pi += 1
            negate = pat(pi) == 0x5E  # '^'
            if negate:
                pi += 1
            matched = False
            sc = s[si]
            while True:
                pc = pat(pi)
                if pc == 0x5C and plen - pi >= 2:  # '\\' escapes the next char
                    pi += 1
                    if p[pi] == sc:
                        matched = True
                elif pc == 0x5D:  # ']'
                    break
                elif pi >= plen:  # unterminated class: stop at the end of the pattern
                    pi -= 1
                    break
                elif plen - pi >= 3 and p[pi + 1] == 0x2D:  # 'a-z'
                    start = _signed(p[pi])
                    end = _signed(p[pi + 2])
                    if start > end:
                        start, end = end, start
                    pi += 2
                    if start <= _signed(sc) <= end:
                        matched = True
                elif pc == sc:
                    matched = True
                pi += 1
            if negate:
                matched = not matched
            if not matched:
                return False
            si += 1
        else:
            if c == 0x5C and plen - pi >= 2:  # '\\': the next char is literal
                pi += 1
                c = p[pi]
            if c != s[si]:
                return False
            si += 1
        pi += 1
        if si == slen:
            while pi < plen and p[pi] == 0x2A:
                pi += 1
            break
    return pi == plen and si == slen


def literal_prefix(pattern: bytes) -> bytes:
    """The bytes every match must start with (up to the first special character)."""
    for i, c in enumerate(pattern):
        if c in _SPECIAL:
            return pattern[:i]
    return pattern


def compile(pattern: bytes) -> Callable[[bytes], bool]:  # noqa: A001 - mirrors re.compile
    """A predicate ``f(key) -> bool`` for ``pattern``, with fast paths for common shapes."""
    if pattern == b"*":
        return lambda key: True
    prefix = literal_prefix(pattern)
    if prefix == pattern:
        return pattern.__eq__
    rest = pattern[len(prefix):]
    if rest.strip(b"*") == b"":
        if not prefix:  # "**": Redis's matcher never matches the empty key (only "*" does)
            return bool
        return lambda key: key.startswith(prefix)
    return lambda key: _match(pattern, 0, key, 0, [False])
