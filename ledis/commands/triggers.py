"""Keyspace triggers: LEDIS.TRIGGERS, and the ``triggers`` field of FUNCTION LIST.

Triggers are declared by FUNCTION libraries (``redis.register_trigger``); the registry and
the machinery that runs them are in ``ledis.scripting.triggers`` (``ctx.core.triggers``).
"""

from __future__ import annotations

from typing import Any

from ledis.commands.registry import command
from ledis.replies import Map


def describe(trigger: Any, counters: bool) -> Map:
    """One trigger as a map: what FUNCTION LIST shows, plus counters for LEDIS.TRIGGERS."""
    entry = Map({
        b"name": trigger.name,
        b"keys": list(trigger.keys),
        b"events": list(trigger.events),
        b"on_error": trigger.on_error,
        b"flags": list(trigger.flags),
    })
    if counters:
        entry = Map({b"library": trigger.library, **entry, b"fires": trigger.fires,
                     b"errors": trigger.errors, b"last_error": trigger.last_error})
    return entry


@command("ledis.triggers", arity=1, flags="readonly noscript", group="scripting",
         summary="List every keyspace trigger of the FUNCTION libraries with its counters",
         since="1.0.0", acl="@slow @scripting")
def cmd_ledis_triggers(ctx, argv):
    from ledis.commands.functions import functions_of

    return [describe(trigger, True)
            for lib in functions_of(ctx.core).libraries.values()
            for trigger in lib.triggers]
