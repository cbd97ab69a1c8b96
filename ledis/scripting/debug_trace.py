"""The recorded debugger: an EVAL run under the real Lua debugger (``scripting/debugger.py``,
``lua/debugger.lua``) in YES mode, driven by a console whose commands are all decided in
advance, so the whole session runs synchronously on the loop thread and yields a trace the
browser console steps through afterwards (docs/console.md, "Debug").

Why recorded: an interactive session holds the event loop between two commands (scripts run
on the loop thread), which is workable for one ``redis-cli --ldb`` client but not between two
HTTP requests. :class:`TraceConsole` answers every stop at once, as the browser would have:
``step`` everywhere, and ``print`` (all locals) at each stop it records. Nothing waits for a
client, so no other client is answered BUSY; the server is busy for the session the way it is
for any script, and the session is bounded like one:

* at most ``MAX_STEPS`` stops of the debugger (2,000, recorded or not), ``MAX_TRACE_BYTES``
  of recorded text (1 MB), and the script time limit (``lua-time-limit``, 5 s if 0) from the
  first stop; past any of them the console answers ``abort`` (the script ends with
  ``ERR script aborted for user request``) and the trace carries a note saying which limit
  stopped it;
* YES mode: every write of the script is thrown away at the end (``debugger._restore``), so
  debugging from the browser never changes data.

With breakpoints the script is still stepped line by line (so the Redis calls between two
recorded stops are all logged), but only the first stop, the breakpoint lines and
``redis.breakpoint()`` stops are recorded; the calls of the lines in between are carried over
to the next recorded stop.

The session runs through ``Core.dispatch`` as an EVAL of a client in ``SCRIPT DEBUG YES``
whose console is this object (``ctx.extra["debug_console"]``), so AUTH, CLIENT PAUSE, the
read-only replica rule and command statistics apply as to any EVAL.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from ledis import errors
from ledis.errors import LedisError
from ledis.replies import Pending
from ledis.scripting.debugger import script_debug

if TYPE_CHECKING:
    from ledis.core import Context, Core

MAX_STEPS = 2000
MAX_TRACE_BYTES = 1 << 20
_STOP = re.compile(r"^\* Stopped at (\d+), stop reason = (.*)$")
NOTE_STEPS = "stopped after {} steps (the recorder's limit): the script was aborted there"
NOTE_BYTES = "stopped after {} bytes of trace (the recorder's limit): the script was aborted there"
NOTE_TIME = "stopped after {:.0f} ms (lua-time-limit): the script was aborted there"


class TraceConsole:
    """A debugger console (``read``/``send``, see ``debugger.SocketConsole``) that answers
    every stop itself and records what the debugger says.

    ``stops`` is a list of ``{"line", "reason", "source", "locals", "calls"}``: ``locals`` the
    ``[name, value]`` pairs of ``print`` (values as the debugger shows them, cut at 256
    bytes), ``calls`` the debugger's lines logged since the previous recorded stop
    (``<redis> ...``, ``<reply> ...``, ``<error> ...``, ``<debug> ...``). ``after`` holds the
    lines logged after the last stop, ``note`` why the recording was cut short (or None)."""

    def __init__(self, breakpoints: set[int] | None = None, max_steps: int = MAX_STEPS,
                 time_limit: float = 5.0, max_bytes: int = MAX_TRACE_BYTES) -> None:
        self.breakpoints = breakpoints or set()
        self.max_steps = max_steps
        self.time_limit = time_limit
        self.max_bytes = max_bytes
        self.stops: list[dict] = []
        self.after: list[str] = []
        self.note: str | None = None
        self.steps = 0
        self.size = 0
        self.to_lua: Any = None  # Python list -> Lua table, set by run_session
        self._pending: list[str] = []  # logged lines not yet attached to a stop
        self._next: list[bytes] = []  # the commands to answer the next reads with
        self._printing: dict | None = None  # the stop whose "print" reply comes next
        self._start: float | None = None

    def read(self) -> Any:
        if not self._next:  # only after an unexpected reply: the session is resumed
            self._next = [b"step"]
        argv = self._next.pop(0)
        if argv == b"step":
            note = self._limit()
            if note is not None:
                self.note = note
                argv = b"abort"
        return self.to_lua([argv])

    def _limit(self) -> str | None:
        if self.steps >= self.max_steps:
            return NOTE_STEPS.format(self.max_steps)
        if self.size > self.max_bytes:
            return NOTE_BYTES.format(self.max_bytes)
        elapsed = time.monotonic() - (self._start or time.monotonic())
        if elapsed > self.time_limit:
            return NOTE_TIME.format(elapsed * 1000)
        return None

    def send(self, lines: Any) -> None:
        texts = [line.decode("utf-8", "replace") for line in lines.values()]
        self.size += sum(len(t) for t in texts)
        if self._printing is not None:  # the reply to "print"
            stop, self._printing = self._printing, None
            for text in texts:
                name, sep, value = text.removeprefix("<value> ").partition(" = ")
                if text.startswith("<value> ") and sep:
                    stop["locals"].append([name, value])
            return
        for i, text in enumerate(texts):
            match = _STOP.match(text)
            if match is None:
                continue
            if self._start is None:
                self._start = time.monotonic()
            self.steps += 1  # stops made, recorded or not: what the limit counts
            self._pending.extend(texts[:i])
            line, reason = int(match.group(1)), match.group(2)
            if (not self.breakpoints or not self.stops or line in self.breakpoints
                    or reason != "step over"):
                # "-> 12  code": a 3-character mark, the number padded to 3, a space
                listed = texts[i + 1] if i + 1 < len(texts) else ""
                source = listed[4 + max(3, len(str(line))):]
                stop = {"line": line, "reason": reason, "source": source, "locals": [],
                        "calls": self._pending}
                self._pending = []
                self.stops.append(stop)
                self._printing = stop
                self._next = [b"print", b"step"]
            else:
                self._next = [b"step"]
            return
        # no stop: the lines logged before the end (<endsession> last)
        self._pending.extend(t for t in texts if t != "<endsession>")
        self.after = self._pending

    def trace(self) -> dict:
        return {"stops": self.stops, "after": self.after, "steps": self.steps,
                "note": self.note}


def record(core: Core, ctx: Context, script: bytes, keys: list[bytes], args: list[bytes],
           readonly: bool = False, breakpoints: set[int] | None = None,
           max_steps: int = MAX_STEPS) -> tuple[dict, Any]:
    """Run ``script`` under the debugger for ``ctx`` (authenticated, db selected) and return
    ``(trace, reply)``: the reply is the script's value, or the LedisError it ended with."""
    limit = core.config.lua_time_limit_ms * 0.001 or 5.0
    console = TraceConsole(breakpoints, max_steps=max_steps, time_limit=limit)
    script_debug(ctx, b"YES")
    ctx.extra["debug_console"] = console
    argv = [b"EVAL_RO" if readonly else b"EVAL", script, b"%d" % len(keys), *keys, *args]
    try:
        reply: Any = core.dispatch(ctx, argv)
        if type(reply) is Pending:  # CLIENT PAUSE: an HTTP request cannot wait its turn
            reply = LedisError(errors.CONSOLE_DEBUG_PAUSED)
    except LedisError as exc:
        core.count_error(exc)
        reply = exc
    finally:
        ctx.extra.pop("debug_console", None)
        script_debug(ctx, b"NO")
        core.commit()
    return console.trace(), reply
