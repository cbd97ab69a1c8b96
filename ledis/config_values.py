"""How CONFIG SET reads a value, as Redis 7.0's config.c does: numbers (``string2ll``, and
``memtoull`` for memory values, with each parameter's bounds from
``ledis/data/redis_config.json``), and the parameters Redis parses with a function of their
own (``save``, ``notify-keyspace-events``, ``client-output-buffer-limit`` ...). Each parser
returns the value to store, as CONFIG GET shows it (through ``SHOWN`` where Redis's string
leaves part of the setting out), or raises ``ParamError`` with Redis's reason.
``ledis.config.RuntimeConfig.validate`` calls them; nothing here knows about a server."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

_LLONG_MIN, _LLONG_MAX = -(2**63), 2**63 - 1
_ULLONG_MAX = 2**64 - 1


class ParamError(ValueError):
    """A bad CONFIG SET value; the message is Redis's reason text."""


class ApplyError(Exception):
    """A CONFIG SET value that could not be applied (the server's TLS listeners); the message
    is Redis's reason text."""


# --- numbers ---------------------------------------------------------------------------------
_STRICT_INT = re.compile(r"-?[1-9][0-9]*|0")  # string2ll: no sign '+', no space, no leading 0


def string2ll(text: str) -> int | None:
    """Redis's ``string2ll``: the integer ``text`` spells exactly, within a long long."""
    if not _STRICT_INT.fullmatch(text):
        return None
    value = int(text)
    return value if _LLONG_MIN <= value <= _LLONG_MAX else None


_MEMORY = re.compile(r"([0-9]*)(|b|k|kb|m|mb|g|gb)", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3,
          "gb": 1024**3}


def memtoull(text: str) -> int | None:
    """Redis's ``memtoull``: digits (``""`` is 0, leading zeros allowed) and an optional unit;
    the digits saturate at 2^64-1 (strtoull) and the product wraps modulo 2^64."""
    match = _MEMORY.fullmatch(text)
    if match is None or len(match.group(1)) >= 128:
        return None
    digits = min(int(match.group(1) or "0"), _ULLONG_MAX)
    return digits * _UNITS[match.group(2).lower()] & _ULLONG_MAX


def parse_number(spec: dict, value: str) -> int:
    """An ``int`` or ``memory`` parameter's value (``spec``: its redis_config.json entry, with
    ``min`` and ``max``), checked as numericParseString and numericBoundaryCheck do. A
    parameter whose maximum is above 2^63-1 is unsigned; any other compares as signed, so a
    memory value past 2^63-1 reads as negative."""
    low, high = spec.get("min", _LLONG_MIN), spec.get("max", _LLONG_MAX)
    if spec["type"] == "memory":
        number = memtoull(value)
        if number is None:
            raise ParamError("argument must be a memory value")
        if high <= _LLONG_MAX and number > _LLONG_MAX:
            number -= 2**64
    else:
        number = string2ll(value)
        if number is None:
            raise ParamError("argument couldn't be parsed into an integer")
        if high > _LLONG_MAX and number < 0:
            number += 2**64
    if not low <= number <= high:
        raise ParamError(f"argument must be between {low} and {high} inclusive")
    return number


# Booleans that cannot be switched on (Redis's isValid... check): Debian's redis-server has no
# defragmenting allocator, nor has ledis.
CANNOT_ENABLE = {
    "activedefrag": "Active defragmentation cannot be enabled: it requires a Redis server "
                    "compiled with a modified Jemalloc like the one shipped by default with the "
                    "Redis source distribution",
}

# What the setter does to an accepted number (Redis's apply functions): hz is kept within
# CONFIG_MIN_HZ..CONFIG_MAX_HZ, the replication backlog is at least 16 KB.
CLAMPED = {"hz": (1, 500), "repl-backlog-size": (16384, _LLONG_MAX)}


# --- the parameters with a parser of their own -------------------------------------------------
def _strtoll(text: str) -> int | None:
    """C's strtoll(base 10) with the whole text consumed: leading blanks and a sign allowed,
    saturating at the long long bounds; "" is 0 (nothing to convert, nothing left over)."""
    if text == "":  # no digits: 0, and the end pointer is at the end
        return 0
    match = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", text)
    if match is None:
        return None
    return max(_LLONG_MIN, min(_LLONG_MAX, int(match.group(1))))


def _c_int(value: int) -> int:
    """A long long stored in a C int (two's complement wrap)."""
    return (value + 2**31) % 2**32 - 2**31


def _words(value: str) -> list[str]:
    """A multi-argument parameter's value as Redis splits it (on single spaces); a lone
    empty string is no argument at all."""
    return [] if value == "" else value.split(" ")


def _save(value: str, _current: str) -> str:
    words = _words(value)
    if len(words) & 1:
        raise ParamError("Invalid save parameters")
    numbers = []
    for i, word in enumerate(words):
        number = _strtoll(word)
        if number is None or number < (1 if i % 2 == 0 else 0):
            raise ParamError("Invalid save parameters")
        numbers.append(number if i % 2 == 0 else _c_int(number))
    return " ".join(map(str, numbers))


_EVENT_CLASSES = "g$lshzxetd"  # 'A' stands for all of them (not m, n, K, E)
_EVENT_ORDER = "g$lshzxetdn"


def _notify_keyspace_events(value: str, _current: str) -> str:
    chars: set[str] = set()
    for ch in value:
        if ch == "A":
            chars.update(_EVENT_CLASSES)
        elif ch in "g$lshzxeKEtmdn":
            chars.add(ch)
        else:
            raise ParamError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    # keyspaceEventsFlagsToString's order: A for all the classes, else each; kept with n
    # after A (SHOWN hides it there, as Redis's string does, but n still publishes)
    if chars.issuperset(_EVENT_CLASSES):
        out = "A" + ("n" if "n" in chars else "")
    else:
        out = "".join(c for c in _EVENT_ORDER if c in chars)
    return out + "".join(c for c in "KEm" if c in chars)


def _events_shown(stored: str) -> str:
    """notify-keyspace-events as CONFIG GET shows it: Redis writes no n after A."""
    return stored.replace("n", "") if stored.startswith("A") else stored


# How CONFIG GET shows a stored value, where Redis's string leaves out part of the setting.
SHOWN: dict[str, Callable[[str], str]] = {"notify-keyspace-events": _events_shown}


_BUFFER_CLASSES = {"normal": "normal", "slave": "slave", "replica": "slave", "pubsub": "pubsub"}


def _client_output_buffer_limit(value: str, current: str) -> str:
    words = _words(value)
    if len(words) % 4:
        raise ParamError("Wrong number of arguments in buffer limit configuration.")
    old = current.split()
    limits = {old[i]: old[i + 1:i + 4] for i in range(0, len(old), 4)}
    for i in range(0, len(words), 4):
        name = _BUFFER_CLASSES.get(words[i].lower())
        if name is None:
            raise ParamError("Invalid client class specified in buffer limit configuration.")
        hard, soft = memtoull(words[i + 1]), memtoull(words[i + 2])
        seconds = _strtoll(words[i + 3])
        if hard is None or soft is None or seconds is None or seconds < 0:
            raise ParamError("Error in hard, soft or soft_seconds setting in buffer limit "
                             "configuration.")
        limits[name] = [str(hard), str(soft), str(_c_int(seconds))]
    return " ".join(f"{name} {' '.join(limits[name])}" for name in ("normal", "slave", "pubsub"))


def _oom_score_adj_values(value: str, _current: str) -> str:
    words = _words(value)
    if len(words) != 3:
        raise ParamError("wrong number of arguments")
    numbers = [_strtoll(word) for word in words]
    if any(n is None or not -2000 <= n <= 2000 for n in numbers):
        raise ParamError("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
    return " ".join(map(str, numbers))


_DOUBLE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?inf(?:inity)?",
                     re.IGNORECASE)


_HEX_DOUBLE = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
                         r"(?:[pP][+-]?[0-9]+)?")


def _string2d(word: str) -> float | None:
    """Redis's ``string2d``: ``strtod`` over the whole word (hexadecimal floats too), no
    blanks, no NaN, no overflow to infinity and no underflow to zero (ERANGE)."""
    if _DOUBLE.fullmatch(word):
        number = float(word)
        digits = word.lower().lstrip("+-").split("e")[0]
        if (math.isinf(number) and not digits.startswith("inf")) or (
                number == 0.0 and digits.strip("0.")):
            return None
        return number
    if _HEX_DOUBLE.fullmatch(word):
        try:
            number = float.fromhex(word)
        except OverflowError:
            return None
        mantissa = word.lower().lstrip("+-")[2:].split("p")[0]
        return None if number == 0.0 and mantissa.strip("0.") else number
    return None


def _latency_tracking_info_percentiles(value: str, _current: str) -> str:
    shown = []
    for word in _words(value):
        percentile = _string2d(word)
        if percentile is None:
            raise ParamError("Invalid latency-tracking-info-percentiles parameters")
        if not 0.0 <= percentile <= 100.0:
            raise ParamError(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        text = f"{percentile:f}"  # "%f", then trimDoubleString
        shown.append(text.rstrip("0").rstrip(".") if "." in text else text)
    return " ".join(shown)


def _maxmemory_clients(value: str, _current: str) -> str:
    """A memory value, or a percentage of maxmemory (PERCENT_CONFIG, at most 100%)."""
    number = memtoull(value)
    if number is not None and number <= _LLONG_MAX:
        return str(number)
    if number is not None:  # past 2^63-1 the long long is negative: how a percentage is kept
        percent: int | None = 2**64 - number
    elif len(value) > 1 and value.endswith("%"):
        percent = string2ll(value[:-1])
        if percent is not None and percent < 0:
            percent = None
    else:
        percent = None
    if percent is None:
        raise ParamError("argument must be a memory or percent value")
    if percent > 100:
        raise ParamError("percentage argument must be less or equal to 100")
    return f"{percent}%"


def _hostname(value: str, _current: str) -> str:
    if len(value) >= 256:
        raise ParamError("Hostnames must be less than 256 characters")
    if not re.fullmatch(r"[A-Za-z0-9.-]*", value):
        raise ParamError("Hostnames may only contain alphanumeric characters, hyphens or dots")
    return value


# A process title's variables, and whether each is empty when Redis checks a template
# (validateProcTitleTemplate expands it with an empty title; a standalone server without a
# unix socket has an empty mode and socket; config-file is "-" without a file).
_TITLE_VARIABLES = {"title": True, "server-mode": True, "unixsocket": True,
                    "config-file": False, "listen-addr": False, "port": False, "tls-port": False}
_BAD_TEMPLATE = "template format is invalid or contains unknown variables"


def _proc_title_template(value: str, _current: str) -> str:
    """sdstemplate's syntax, as it reads: ``{{`` a literal ``{``, ``{name}`` a known variable
    (the name runs to the next ``}``), any other ``}`` itself; the expansion, trimmed of
    spaces, must not be empty."""
    out = []
    at = 0
    while at < len(value):
        start = value.find("{", at)
        if start < 0:
            out.append(value[at:])
            break
        out.append(value[at:start])
        if start + 1 == len(value):
            raise ParamError(_BAD_TEMPLATE)
        if value[start + 1] == "{":
            out.append("{")
            at = start + 2
            continue
        end = value.find("}", start + 1)
        empty = _TITLE_VARIABLES.get(value[start + 1:end]) if end >= 0 else None
        if empty is None:
            raise ParamError(_BAD_TEMPLATE)
        out.append("" if empty else "x")
        at = end + 1
    if not "".join(out).strip(" "):
        raise ParamError(_BAD_TEMPLATE)
    return value


SPECIAL: dict[str, Callable[[str, str], str]] = {
    "save": _save,
    "notify-keyspace-events": _notify_keyspace_events,
    "client-output-buffer-limit": _client_output_buffer_limit,
    "oom-score-adj-values": _oom_score_adj_values,
    "latency-tracking-info-percentiles": _latency_tracking_info_percentiles,
    "maxmemory-clients": _maxmemory_clients,
    "cluster-announce-hostname": _hostname,
    "proc-title-template": _proc_title_template,
}


def parse_value(name: str, spec: dict, value: str, current: str) -> object:
    """``value`` of the parameter ``name`` (its redis_config.json entry ``spec``; ``current``
    its value now) as CONFIG SET reads it: what to store, or ParamError. Whether the
    parameter may be changed at all is the caller's (CONFIG SET refuses immutable ones, a
    config file may set them)."""
    kind = spec["type"]
    if kind == "bool":
        lowered = value.lower()
        if lowered not in ("yes", "no"):
            raise ParamError("argument must be 'yes' or 'no'")
        if lowered == "yes" and name in CANNOT_ENABLE:
            raise ParamError(CANNOT_ENABLE[name])
        return lowered
    if kind == "enum":
        lowered = value.lower()
        if lowered not in spec["choices"]:
            raise ParamError(
                "argument(s) must be one of the following: " + ", ".join(spec["choices"]))
        return lowered
    if kind in ("int", "memory"):
        number = parse_number(spec, value)
        clamp = CLAMPED.get(name)
        return number if clamp is None else max(clamp[0], min(clamp[1], number))
    special = SPECIAL.get(name)
    if special is not None:  # Redis's own parser of the parameter: the value as GET shows
        return special(value, current)
    return value
