"""Every error text a client can see, in one place.

Errors are exceptions carrying the exact Redis 7.0 text, prefix included (``ERR``,
``WRONGTYPE``, ``NOSCRIPT`` ...). Handlers and the storage layer raise them; only the
dispatcher turns them into error replies. Texts that take arguments are functions or
``str.format`` templates defined here too, so no handler spells an error itself.
"""

from __future__ import annotations


class LedisError(Exception):
    """An error reply. ``str(exc)`` is the full text sent to the client, prefix included."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    @property
    def prefix(self) -> str:
        """The error code (first word), as Redis counts it in INFO errorstats."""
        return self.text.split(" ", 1)[0]


class ProtocolError(LedisError):
    """Malformed RESP: the connection is answered and then closed."""


# --- generic -----------------------------------------------------------------------------
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
INCR_NAN = "ERR increment would produce NaN or Infinity"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NO_SUCH_KEY = "ERR no such key"
DB_INDEX = "ERR DB index is out of range"
INVALID_DB_INDEX = "ERR invalid DB index"
SAME_OBJECT = "ERR source and destination objects are the same"
INVALID_EXPIRE = "ERR invalid expire time in '{}' command"
EXPIRE_OPTIONS = "ERR NX and XX, GT or LT options at the same time are not compatible"
GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
OFFSET_RANGE = "ERR offset is out of range"
BIT_OFFSET = "ERR bit offset is not an integer or out of range"
BIT_VALUE = "ERR bit is not an integer or out of range"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
INVALID_CURSOR = "ERR invalid cursor"
NOT_HASH_VALUE_FLOAT = "ERR hash value is not a float"
NOT_HASH_VALUE_INT = "ERR hash value is not an integer"
NEGATIVE_COUNT = "ERR value is out of range, must be positive"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
MIN_MAX_FLOAT = "ERR min or max is not a float"
MIN_MAX_LEX = "ERR min or max not valid string range item"
INTERNAL = "ERR internal error"

# --- dispatcher ----------------------------------------------------------------------------
UNKNOWN_COMMAND = "ERR unknown command '{}', with args beginning with: {}"
UNKNOWN_SUBCOMMAND = "ERR unknown subcommand '{}'. Try {} HELP."
WRONG_ARITY = "ERR wrong number of arguments for '{}' command"
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NOT_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
READONLY = "READONLY You can't write against a read only replica."
NOPROTO = "NOPROTO unsupported protocol version"
MAX_CLIENTS = "ERR max number of clients reached"

# --- protocol ------------------------------------------------------------------------------
PROTO_MULTIBULK_LEN = "ERR Protocol error: invalid multibulk length"
PROTO_BULK_LEN = "ERR Protocol error: invalid bulk length"
PROTO_EXPECTED_DOLLAR = "ERR Protocol error: expected '$', got '{}'"
PROTO_UNBALANCED = "ERR Protocol error: unbalanced quotes in request"
PROTO_TOO_BIG_INLINE = "ERR Protocol error: too big inline request"
PROTO_TOO_BIG_MBULK = "ERR Protocol error: too big mbulk count string"

# --- server / config -----------------------------------------------------------------------
CONFIG_UNKNOWN_PARAM = "ERR Unknown option or number of arguments for CONFIG SET - '{}'"
CONFIG_BAD_VALUE = "ERR CONFIG SET failed (possibly related to argument '{}') - {}"
CLIENT_NO_SUCH = "ERR No such client"
CLIENT_NAME_SPACES = "ERR Client names cannot contain spaces, newlines or special characters."
SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs."


def error(template: str, *args: object) -> LedisError:
    """Build an error from one of the templates above."""
    return LedisError(template.format(*args) if args else template)
