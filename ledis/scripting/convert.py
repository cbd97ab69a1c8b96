"""The conversions of the scripting bridge (ledis/scripting/runtime.py): reply values to Lua
(Redis's rules, RESP2 or RESP3 after ``redis.setresp(3)``), Lua numbers to command arguments,
what a script's runner returned to a reply (EVAL and FCALL), and host functions' Python values
to reply values. No state: the bridge, the cache and the time limit stay in runtime.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledis import errors
from ledis.errors import LedisError
from ledis.replies import (
    OK,
    RESP2_SHAPED,
    Bool,
    Double,
    Map,
    NullArray,
    PairList,
    Pending,
    Raw,
    SetReply,
    Simple,
    Verbatim,
    decode_raw,
    resp2,
)

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1


def _number_arg(value: float) -> bytes:
    """A Lua number given to redis.call, formatted as Redis 7.0 does (``%.17g``)."""
    return b"%.17g" % value


def _script_int(value: float) -> int:
    """A Lua number returned by a script: C's (long long) cast."""
    if value != value or not (_INT_MIN <= value < 2.0**63):
        return _INT_MIN
    return int(value)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


# A script error that means the VM ran out of memory (in the error handler, the second).
_OOM_TEXTS = ("ERR not enough memory", "ERR error in error handling")


def lua_failure(exc: Exception, after_oom: Callable[[], Any]) -> LedisError:
    """The error reply for a ``LuaError`` raised out of a run (a trigger, a timer, a module
    load, the debugger): out of memory (``LuaMemoryError`` is a ``MemoryError``; the VM is
    recovered with ``after_oom``), or ``ERR`` and the error's first line."""
    if isinstance(exc, MemoryError):
        after_oom()
        return LedisError(errors.SCRIPT_OOM)
    return LedisError("ERR " + str(exc).split("\n", 1)[0])


def run_reply(res: Any, name: bytes, after_oom: Any, position: Any = None) -> Any:
    """The reply of a script or function from what the runner returned (``finish`` in
    lua/prelude.lua): ``(kind, payload[, source, line])`` or a lone 1 (null). Shared by EVAL
    and FCALL; ``after_oom`` recovers the VM, ``position()`` gives ``(source, line)`` of the
    error when the runner did not (FCALL)."""
    if type(res) is not tuple:  # a lone kind: 1, null
        return None
    kind = res[0]
    if kind == 0:
        value = res[1]
        return _script_int(value) if type(value) is float else value
    if kind == 2:
        value = res[1]
        return OK if value == b"OK" else Simple(value)
    if kind == 4:
        return Raw(res[1])
    if kind == 1:
        return None
    text = _text(res[1])
    if kind == 3:
        raise LedisError(text)
    if text in _OOM_TEXTS:
        after_oom()
        raise LedisError(errors.SCRIPT_OOM)
    pos = res[2:4]
    if (len(pos) < 2 or pos[0] is None) and position is not None:
        pos = position()
    if type(pos) is tuple and len(pos) > 1 and pos[0] is not None and pos[1] is not None:
        text = f"{text} script: {_text(name)}, on {_text(pos[0])}:{pos[1]:d}."
    raise LedisError(text)




def lua_converter(table_from: Callable[[Any], Any], is_resp3: Callable[[], bool]
                  ) -> Callable[[Any], Any]:
    """``to_lua(reply value)`` for one VM (``table_from`` is its LuaRuntime's); the protocol
    is asked per value (``redis.setresp`` may change it during a script)."""

    def to_lua(value: Any) -> Any:
        t = type(value)
        if t is bytes or t is int:
            return value
        resp3 = is_resp3()
        if value is None:
            return None if resp3 else False
        if t is Simple:
            return table_from({b"ok": bytes(value)})
        if t is list or t is tuple:
            return table_from([to_lua(v) for v in value])
        if not resp3 and t in RESP2_SHAPED:  # Redis's RESP2 rules (ledis.replies.resp2)
            return to_lua(resp2(value))
        if t is Map or t is PairList:
            items = value.items() if t is Map else value
            return table_from({b"map": table_from({to_lua(k): to_lua(v) for k, v in items})})
        if t is SetReply:
            return table_from({b"set": table_from({to_lua(v): True for v in value})})
        if t is Double or t is float:
            return table_from({b"double": float(value)})
        if t is Bool or t is bool:
            return bool(value)
        if value is NullArray:
            return None if resp3 else False
        if t is Verbatim:
            return table_from({b"verbatim_string": table_from(
                {b"format": b"txt", b"string": bytes(value)})})
        if t is Raw:
            return to_lua(decode_raw(value))
        if isinstance(value, LedisError):
            return table_from({b"err": value.text.encode("utf-8", "replace")})
        if isinstance(value, bytes):
            return bytes(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, str):
            return value.encode()
        if type(value) is Pending:
            value.cancel()
            return None if resp3 else False
        raise TypeError(f"cannot convert {t.__name__} to Lua")

    return to_lua


def host_value(value: Any) -> Any:
    """A host function's Python value in reply-value terms (nested dicts, sets, str)."""
    t = type(value)
    if t is str:
        return value.encode()
    if t is dict:
        return Map({host_value(k): host_value(v) for k, v in value.items()})
    if t is set or t is frozenset:
        return SetReply(host_value(v) for v in value)
    if t is list or t is tuple:
        return [host_value(v) for v in value]
    return value
