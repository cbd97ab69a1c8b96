"""RESP2/RESP3 encoding of reply values (see ``ledis.replies`` for the mapping).

``encode(value, out, resp3)`` appends byte strings to ``out``; the connection joins them once
per loop iteration. The common types are tested first by exact type (``type(v) is bytes``),
which is the fastest check in CPython.
"""

from __future__ import annotations

from ledis.errors import LedisError
from ledis.replies import (
    OK,
    RESP2_SHAPED,
    Bool,
    Double,
    Map,
    Multiple,
    NullArray,
    PairList,
    Push,
    Raw,
    SetReply,
    Simple,
    Verbatim,
    format_double,
    resp2,
)


def encode(value: object, out: list[bytes], resp3: bool) -> None:
    t = type(value)
    if t is bytes:
        out.append(b"$%d\r\n%s\r\n" % (len(value), value))  # type: ignore[arg-type]
    elif t is int:
        out.append(b":%d\r\n" % value)  # type: ignore[str-format]
    elif value is None:
        out.append(b"_\r\n" if resp3 else b"$-1\r\n")
    elif t is Simple:
        out.append(b"+%s\r\n" % value)  # type: ignore[str-format]
    elif t is list or t is tuple:
        out.append(b"*%d\r\n" % len(value))  # type: ignore[arg-type]
        for item in value:  # type: ignore[attr-defined]
            if type(item) is bytes:
                out.append(b"$%d\r\n%s\r\n" % (len(item), item))
            elif item is OK:  # EXEC's replies to SETs: without the call
                out.append(b"+OK\r\n")
            else:
                encode(item, out, resp3)
    elif t is Raw:
        out.append(value)  # type: ignore[arg-type]
    elif isinstance(value, LedisError):
        out.append(b"-%s\r\n" % _one_line(value.text).encode("utf-8", "replace"))
    elif not resp3 and t in RESP2_SHAPED:  # maps, sets, doubles, booleans, verbatim
        encode(resp2(value), out, False)
    elif t is Map or t is PairList:
        items = value.items() if t is Map else value  # type: ignore[attr-defined]
        out.append(b"%%%d\r\n" % len(value))  # type: ignore[arg-type]
        for k, v in items:  # type: ignore[attr-defined,union-attr]
            encode(k, out, resp3)
            encode(v, out, resp3)
    elif t is SetReply:
        out.append(b"~%d\r\n" % len(value))  # type: ignore[arg-type]
        for item in value:  # type: ignore[attr-defined]
            encode(item, out, resp3)
    elif t is Double or t is float:
        out.append(b",%s\r\n" % format_double(value))  # type: ignore[arg-type]
    elif t is Bool or t is bool:
        out.append(b"#t\r\n" if value else b"#f\r\n")
    elif value is NullArray:
        out.append(b"_\r\n" if resp3 else b"*-1\r\n")
    elif t is Verbatim:
        out.append(b"=%d\r\ntxt:%s\r\n" % (len(value) + 4, value))  # type: ignore[arg-type]
    elif t is Push:
        out.append((b">%d\r\n" if resp3 else b"*%d\r\n") % len(value))  # type: ignore[arg-type]
        for item in value:  # type: ignore[attr-defined]
            encode(item, out, resp3)
    elif t is Multiple:
        for item in value:  # type: ignore[attr-defined]
            encode(item, out, resp3)
    elif isinstance(value, bytes):  # other bytes subclasses
        out.append(b"$%d\r\n%s\r\n" % (len(value), value))
    elif isinstance(value, int):
        out.append(b":%d\r\n" % value)
    elif isinstance(value, str):
        raw = value.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    else:
        raise TypeError(f"cannot encode reply of type {t.__name__}")


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def encode_one(value: object, resp3: bool = False) -> bytes:
    out: list[bytes] = []
    encode(value, out, resp3)
    return b"".join(out)


def pack_request(argv: list | tuple) -> bytes:
    """A command as a RESP request (an array of bulk strings): what a client sends. The one
    packer of the replication links (both ends), MIGRATE and the dump tools; arguments that
    are not bytes (ints, str) are sent as their text."""
    out = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        if not isinstance(arg, bytes):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)
