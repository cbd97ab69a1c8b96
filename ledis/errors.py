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
# A failed group commit (ledis/server/app.py, Server.flush): the batch's writes were discarded,
# so none of its held replies may go out; the connection is closed after this one error.
# MISCONF is the prefix Redis gives persistence failures ("Errors writing to the AOF file").
STORE_WRITE_FAILED = ("MISCONF Errors writing to the store: the writes of your last commands "
                      "were not applied (see the server log)")

# --- protocol ------------------------------------------------------------------------------
PROTO_MULTIBULK_LEN = "ERR Protocol error: invalid multibulk length"
PROTO_BULK_LEN = "ERR Protocol error: invalid bulk length"
PROTO_EXPECTED_DOLLAR = "ERR Protocol error: expected '$', got '{}'"
PROTO_UNBALANCED = "ERR Protocol error: unbalanced quotes in request"
PROTO_TOO_BIG_INLINE = "ERR Protocol error: too big inline request"
PROTO_TOO_BIG_MBULK = "ERR Protocol error: too big mbulk count string"
PROTO_TOO_BIG_BULK = "ERR Protocol error: too big bulk count string"
PROTO_UNAUTH_MULTIBULK = "ERR Protocol error: unauthenticated multibulk length"
PROTO_UNAUTH_BULK = "ERR Protocol error: unauthenticated bulk length"

# --- server / config -----------------------------------------------------------------------
CONFIG_UNKNOWN_PARAM = "ERR Unknown option or number of arguments for CONFIG SET - '{}'"
CONFIG_BAD_VALUE = "ERR CONFIG SET failed (possibly related to argument '{}') - {}"
CLIENT_NO_SUCH = "ERR No such client"
CLIENT_NAME_SPACES = "ERR Client names cannot contain spaces, newlines or special characters."
SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs."
HELLO_PROTO_NOT_INT = "ERR Protocol version is not an integer or out of range"
HELLO_SYNTAX = "ERR Syntax error in HELLO option '{}'"
HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
    "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
    "select the RESP protocol version at the same time"
)
CLIENT_UNKNOWN_TYPE = "ERR Unknown client type '{}'"
CLIENT_INVALID_ID = "ERR Invalid client ID"
CLIENT_ID_POSITIVE = "ERR client-id should be greater than 0"
CLIENT_NO_USER = "ERR No such user '{}'"
CLIENT_SETINFO_OPTION = "ERR Unrecognized option '{}'"
CLIENT_SETINFO_CHARS = "ERR {} cannot contain spaces, newlines or special characters."
SHUTDOWN_NOT_IN_PROGRESS = "ERR No shutdown in progress."
CONFIG_NO_FILE = "ERR The server is running without a config file"
CONFIG_REWRITE_FAILED = "ERR Rewriting config file: {}"
COMMAND_INVALID = "ERR Invalid command specified"
COMMAND_INVALID_ARGS = "ERR Invalid number of arguments specified for command"
COMMAND_NO_KEYS = "ERR The command has no key arguments"
COMMAND_INVALID_KEYS = "ERR Invalid arguments specified for command"


def error(template: str, *args: object) -> LedisError:
    """Build an error from one of the templates above."""
    return LedisError(template.format(*args) if args else template)

# --- keyspace (keys.py) ----------------------------------------------------------------------
EXPIRE_GT_LT = "ERR GT and LT options at the same time are not compatible"
EXPIRE_UNSUPPORTED = "ERR Unsupported option {}"
SWAPDB_FIRST = "ERR invalid first DB index"
SWAPDB_SECOND = "ERR invalid second DB index"
SCAN_CURSOR_UNKNOWN = "ERR invalid cursor"  # a cursor this server never issued (or forgot)
OBJECT_FREQ_NOT_LFU = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time to "
    "adjust."
)
OBJECT_IDLE_LFU = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)

# --- strings (strings.py) --------------------------------------------------------------------
DECREMENT_OVERFLOW = "ERR decrement would overflow"
LCS_NOT_STRINGS = "ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX."
BITPOS_BIT = "ERR The bit argument must be 1 or 0."
BITOP_NOT_ONE_KEY = "ERR BITOP NOT must be called with a single source key."
BITFIELD_TYPE = (
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
    "but i64 is."
)
BITFIELD_OVERFLOW_TYPE = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO_GET_ONLY = "ERR BITFIELD_RO only supports the GET subcommand"
LCS_TOO_BIG = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"

# --- hashes and sets (hashes.py, sets.py) ------------------------------------------------------
HASH_INCR_NAN_ARG = "ERR value is NaN or Infinity"
COUNT_OUT_OF_RANGE = "ERR value is out of range"
COUNT_RANGE_SIGNED = (
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)
NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0"
NUMKEYS_TOO_MANY = "ERR Number of keys can't be greater than number of args"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"

# --- scripting (scripting.py, ledis/scripting) ---------------------------------------------
NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
NOTBUSY = "NOTBUSY No scripts in execution right now."
BUSY_SCRIPT = ("BUSY Redis is busy running a script. "
               "You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
BUSY_FUNCTION = ("BUSY Redis is busy running a script. "
                 "You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
UNKILLABLE_WROTE = (
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
    "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
    "NOSAVE command."
)
SCRIPT_KILLED = "ERR Script killed by user with SCRIPT KILL..."
NUMKEYS_TOO_BIG = "ERR Number of keys can't be greater than number of args"
NUMKEYS_NEGATIVE = "ERR Number of keys can't be negative"
SCRIPT_COMPILE = "ERR Error compiling script (new function): {}"
SHEBANG_INVALID = "ERR Invalid script shebang"
SHEBANG_NO_ENGINE = "ERR Invalid engine in script shebang"
SHEBANG_ENGINE = "ERR Unexpected engine in script shebang: {}"
SHEBANG_OPTION = "ERR Unknown lua shebang option: {}"
SHEBANG_FLAG = "ERR Unexpected flag in script shebang: {}"
SCRIPT_FLUSH_OPTION = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
SCRIPT_RO_WRITE_FLAG = "ERR Can not execute a script with write flag using *_ro command."
SCRIPT_READONLY_REPLICA = "READONLY Can not run script with write flag on readonly replica"
# a stale replica (replica-serve-stale-data no, link down): a script with flags that lack
# allow-stale, and a command a script calls that is not flagged stale
SCRIPT_MASTERDOWN = ("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to "
                     "'no' and 'allow-stale' flag is not set on the script.")
SCRIPT_STALE = "ERR Can not execute the command on a stale replica"
SCRIPT_NOT_ALLOWED = "ERR This Redis command is not allowed from script"
SCRIPT_WRITE_IN_RO = "ERR Write commands are not allowed from read-only scripts."
SCRIPT_UNKNOWN_CMD = "ERR Unknown Redis command called from script"
SCRIPT_WRONG_ARGS = "ERR Wrong number of args calling Redis command from script"
SCRIPT_ARG_TYPE = "ERR Lua redis lib command arguments must be strings or integers"
SCRIPT_NO_ARGS = "ERR Please specify at least one argument for this redis lib call"
SCRIPT_OOM = "ERR Lua script exceeded the memory limit (lua-max-memory)"
# SCRIPT DEBUG (Redis's LDB): the debugger's own texts are in the "Lua debugger" block below.
SCRIPT_DEBUG_MODE = "ERR Use SCRIPT DEBUG YES/SYNC/NO"
SCRIPT_DEBUG_IN_MULTI = "ERR SCRIPT DEBUG must be called outside a pipeline"  # also in EXEC

# --- lists and blocking (lists.py, blocking.py) ----------------------------------------------
INDEX_OUT_OF_RANGE = "ERR index out of range"
LPOS_RANK_ZERO = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
LPOS_COUNT_NEGATIVE = "ERR COUNT can't be negative"
LPOS_MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0"
COUNT_NOT_POSITIVE = "ERR count should be greater than 0"
UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
CLIENT_UNBLOCK_REASON = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"

# --- sorted sets (zsets.py) ------------------------------------------------------------------
ZADD_XX_NX = "ERR XX and NX options at the same time are not compatible"
ZADD_INCR_PAIR = "ERR INCR option supports a single increment-element pair"
ZSET_NAN_RESULT = "ERR resulting score is not a number (NaN)"
ZRANGE_LIMIT_BY_RANK = (
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
)
ZRANGE_BYLEX_WITHSCORES = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
ZSET_NO_INPUT_KEYS = "ERR at least 1 input key is needed for '{}' command"
ZSET_WEIGHT_NOT_FLOAT = "ERR weight value is not a float"
ZMPOP_COUNT_NOT_POSITIVE = "ERR count should be greater than 0"
INT_RANGE = "ERR value is out of range, value must between {} and {}"

# --- functions (functions.py, ledis/scripting/functions.py) ----------------------------------
FUNCTION_MISSING_METADATA = "ERR Missing library metadata"
FUNCTION_INVALID_METADATA = "ERR Invalid library metadata"
FUNCTION_ENGINE_NOT_FOUND = "ERR Engine '{}' not found"
FUNCTION_METADATA_VALUE = "ERR Invalid metadata value given: {}"
FUNCTION_NAME_TWICE = "ERR Invalid metadata value, name argument was given multiple times"
FUNCTION_NO_LIBRARY_NAME = "ERR Library name was not given"
FUNCTION_BAD_NAME = (
    "ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
    "least one character long"
)
FUNCTION_LIBRARY_EXISTS = "ERR Library '{}' already exists"
FUNCTION_LIBRARY_EXISTS_RESTORE = "ERR Library {} already exists"
FUNCTION_COMPILE = "ERR Error compiling function: {}"
FUNCTION_REGISTER = "ERR Error registering functions: {}"
FUNCTION_NONE_REGISTERED = "ERR No functions registered"
FUNCTION_EXISTS = "ERR Function {} already exists"
FUNCTION_NOT_FOUND = "ERR Function not found"
FUNCTION_BAD_NUMKEYS = "ERR Bad number of keys provided"
FUNCTION_LIBRARY_NOT_FOUND = "ERR Library not found"
FUNCTION_FLUSH_OPTION = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
FUNCTION_DUMP_BAD = "ERR DUMP payload version or checksum are wrong"
FUNCTION_RESTORE_POLICY = (
    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
)
FUNCTION_UNKNOWN_OPTION = "ERR Unknown option given: {}"
FUNCTION_CODE_MISSING = "ERR Function code is missing"
FUNCTION_LIST_ARG = "ERR Unknown argument {}"
FUNCTION_LIST_NO_NAME = "ERR library name argument was not given"

# --- embedded engine / HTTP API (issue 7) ----------------------------------------------------
HOST_UNKNOWN = "ERR unknown host function '{}'"
HOST_FAILED = "ERR host function '{}' failed: {}"
HOST_BAD_REPLY = "ERR host function '{}' returned a value that cannot be converted: {}"
HTTP_BLOCKING = "ERR blocking commands are not supported over HTTP"
HTTP_NOT_ALLOWED = "ERR command '{}' is not supported over HTTP"
HTTP_BAD_BODY = "ERR bad request body: {}"
HTTP_TOO_LARGE = "ERR request body too large (limit {} bytes)"
HTTP_NO_COMMAND = "ERR no command given"
HTTP_TOO_DEEP = "ERR bad request body: nested too deeply"
HTTP_BAD_STRING = "ERR bad request body: a string argument is not valid Unicode (lone surrogate)"
HTTP_INCOMPLETE = "ERR bad request body: the connection closed before the body was complete"
# the browser console (ledis/http/console.py, docs/console.md)
CONSOLE_LOGIN_REQUIRED = "NOAUTH log in to the console first"
CONSOLE_CSRF = "ERR missing or wrong X-CSRF-Token header"
CONSOLE_JSON_ONLY = "ERR console requests must be application/json"
CONSOLE_NOT_FOUND = "ERR no such console file"
CONSOLE_DEBUG_PAUSED = "ERR clients are paused (CLIENT PAUSE): debug the script once they resume"
EMBEDDED_NOT_ALLOWED = "ERR command '{}' is not supported by the embedded engine{}"
FUNCTION_SUBCOMMAND_SYNTAX = (
    "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP."
)

# --- persistence: SAVE / BGSAVE checkpoints (issue 8) ----------------------------------------
BGSAVE_IN_PROGRESS = "ERR Background save already in progress"
SAVE_FAILED = "ERR checkpoint failed: {}"

# --- transactions and pub/sub (issue 9) ------------------------------------------------------
MULTI_NESTED = "ERR MULTI calls can not be nested"
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_IN_MULTI = "ERR WATCH inside MULTI is not allowed"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
NOT_IN_MULTI = "ERR Command not allowed inside a transaction"
PUBSUB_CONTEXT = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    "are allowed in this context"
)

# replication (ledis/replication, ledis/commands/replication.py)
INVALID_MASTER_PORT = "ERR Invalid master port"
REPLCONF_UNKNOWN = "ERR Unrecognized REPLCONF option: {}"
WAIT_ON_REPLICA = ("ERR WAIT cannot be used with replica instances. Please also note that since "
                   "Redis 4.0 if a replica is configured to be writable (which is not the "
                   "default) writes to replicas are just local and are not propagated.")
SYNC_NEEDS_CONNECTION = "ERR LEDIS.SYNC needs a network connection"
LOADING = "LOADING Redis is loading the dataset in memory"
MASTERDOWN = ("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")
EXECABORT_BECAUSE = "EXECABORT Transaction discarded because of: {}"
PUBSUB_SUBCOMMAND_SYNTAX = (
    "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP."
)
FUNCTION_RESTORE_LOAD = "ERR Failed loading library payload"
FUNCTION_RESTORE_NOT_FUNCTION = "ERR given type is not a function"

# --- LedisDB extras ---------------------------------------------------------------------------
XSCAN_TYPE = "ERR invalid data type '{}' (one of KV, HASH, LIST, SET, ZSET, STREAM)"
SLOWLOG_COUNT = "ERR count should be greater than or equal to -1"
SLOWLOG_GET_ARGS = ("ERR unknown subcommand or wrong number of arguments for '{}'. "
                    "Try SLOWLOG HELP.")
MONITOR_NO_CONN = "ERR MONITOR needs a network connection"
MONITOR_IN_EXEC = "ERR MONITOR isn't allowed for DENY BLOCKING client"
REPLICA_KEYSPACE = "ERR Replica can't interact with the keyspace"
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
CLIENT_PAUSE_MODE = "ERR CLIENT PAUSE mode must be WRITE or ALL"
CLIENT_SUBCOMMAND_ARGS = ("ERR unknown subcommand or wrong number of arguments for '{}'. "
                          "Try CLIENT HELP.")

# --- DUMP / RESTORE / MIGRATE (ledis/commands/serialize.py) ------------------------------------
DUMP_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
BAD_DATA_FORMAT = "ERR Bad data format"
BUSYKEY = "BUSYKEY Target key name already exists."
RESTORE_TTL = "ERR Invalid TTL value, must be >= 0"
RESTORE_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0"
RESTORE_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255"
MIGRATE_KEYS_EMPTY = ("ERR When using MIGRATE KEYS option, the key argument must be set to the "
                      "empty string")
MIGRATE_TARGET = "ERR Target instance replied with error: {}"
MIGRATE_IO = "IOERR error or timeout {} to target instance"
MIGRATE_CONNECT = "IOERR error or timeout connecting to the client"

# --- startup and the command line (ledis/startup.py) ------------------------------------------
# Not replies: one line on stderr, "ledis: <what> (<where>): <why>", and exit status 2.
STARTUP_LINE = "ledis: {} ({}): {}"
STARTUP_CONFIG = "config error"
STARTUP_LISTEN = "cannot listen"
STARTUP_LISTEN_HTTP = "cannot listen for HTTP"
STARTUP_DATA_DIR = "bad data directory"
STARTUP_STORE_LOCKED = "data directory in use"
STARTUP_LOGFILE = "cannot write the log file"
ADDRESS_IN_USE = "address already in use (is another server running on this port?)"
ADDRESS_NOT_LOCAL = "not an address of this machine"
ADDRESS_DENIED = "permission denied (ports below 1024 need privileges)"
ADDRESS_INVALID = "not a valid IP address"
ADDRESS_UNRESOLVED = "cannot resolve the host name ({})"
PATH_NOT_DIRECTORY = "exists and is not a directory"
PATH_PARENT_NOT_DIRECTORY = "{} is not a directory"
PATH_NOT_WRITABLE = "{} is not writable"
PATH_IS_DIRECTORY = "is a directory"
STORE_LOCKED_WHY = "another process holds its lock (one server per data directory)"
# the Lua runtime's self-check (ledis/resources.py: check_runtime, runtime_problem)
STARTUP_LUA = "lua runtime"
LUA_CANNOT_READ = "cannot read {}: {}"
LUA_NO_STDLIB = "no stdlib libraries (*.lua) found"
LUA_NO_LUAJIT = "lupa's LuaJIT 2.1 is not importable: {}"
LUA_DOES_NOT_COMPILE = "{} does not compile: {}"

# --- GEO, MEMORY, OBJECT FREQ/IDLETIME (ledis/commands/geo.py, memory.py) ----------------------
GEO_INVALID_LONLAT = "ERR invalid longitude,latitude pair {:f},{:f}"
GEO_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
GEO_NEED_RADIUS = "ERR need numeric radius"
GEO_NEED_WIDTH = "ERR need numeric width"
GEO_NEED_HEIGHT = "ERR need numeric height"
GEO_NEGATIVE_RADIUS = "ERR radius cannot be negative"
GEO_NEGATIVE_BOX = "ERR height or width cannot be negative"
GEO_COUNT = "ERR COUNT must be > 0"
GEO_ANY_NEEDS_COUNT = "ERR the ANY argument requires COUNT argument"
GEO_STORE_WITH = "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
GEO_FROM = "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}"
GEO_BY = "ERR exactly one of BYRADIUS and BYBOX can be specified for {}"
GEO_MEMBER = "ERR could not decode requested zset member"

# --- HyperLogLog and SORT (commands/hyperloglog.py, commands/sort.py) -------------------------
HLL_WRONGTYPE = "WRONGTYPE Key is not a valid HyperLogLog string value."
HLL_INVALID = "INVALIDOBJ Corrupted HLL object detected"
SORT_NOT_DOUBLE = "ERR One or more scores can't be converted into double"
SORT_BY_DENIED = "ERR BY option of SORT denied due to insufficient ACL permissions."
SORT_GET_DENIED = "ERR GET option of SORT denied due to insufficient ACL permissions."

# --- streams (ledis/commands/streams.py, ledis/storage/types/stream.py) ----------------------
STREAM_ID_INVALID = "ERR Invalid stream ID specified as stream command argument"
XADD_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
XADD_SEQ_OVERFLOW = "ERR Elements are too large to be stored"  # what 7.0 says for ms-* at seq max
XADD_ID_SMALL = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
STREAM_EXHAUSTED = ("ERR The stream has exhausted the last possible ID, unable to add more "
                    "items")
XTRIM_BOTH = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
XTRIM_LIMIT_NO_STRATEGY = ("ERR syntax error, LIMIT cannot be used without specifying a "
                           "trimming strategy")
XTRIM_LIMIT_NOT_APPROX = "ERR syntax error, LIMIT cannot be used without the special ~ option"
XTRIM_NO_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy"
XTRIM_MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
XTRIM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
STREAM_START_INVALID = "ERR invalid start ID for the interval"
STREAM_END_INVALID = "ERR invalid end ID for the interval"
XREAD_UNBALANCED = ("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' "
                    "must be specified.")
XREAD_GROUP_OPTION = ("ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
                      "instead.")
XREAD_NOACK_OPTION = ("ERR The NOACK option is only supported by XREADGROUP. You called XREAD "
                      "instead.")
XREAD_GT_ID = ("ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
               "<group> <consumer> option.")
XREAD_BLOCK_IN_SCRIPT = "ERR {} command is not allowed with BLOCK option from scripts"
XREADGROUP_MISSING_GROUP = "ERR Missing GROUP option for XREADGROUP"
XREADGROUP_DOLLAR = ("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read "
                     "the history of this consumer by specifying a proper ID, or use the > ID "
                     "to get new messages. The $ ID would just return an empty result set.")
XREADGROUP_NOGROUP = ("NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP "
                      "option")
XREADGROUP_GROUP_GONE = "NOGROUP the consumer group this client was blocked on no longer exists"
XGROUP_NEEDS_KEY = ("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE "
                    "you may want to use the MKSTREAM option to create an empty stream "
                    "automatically.")
XGROUP_SYNTAX = "ERR unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP."
XGROUP_ENTRIES_READ = "ERR value for ENTRIESREAD must be positive or -1"
XGROUP_NOGROUP = "NOGROUP No such consumer group '{}' for key name '{}'"
XGROUP_BUSYGROUP = "BUSYGROUP Consumer Group name already exists"
STREAM_NOGROUP = "NOGROUP No such key '{}' or consumer group '{}'"
XCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XCLAIM"
XCLAIM_IDLE = "ERR Invalid IDLE option argument for XCLAIM"
XCLAIM_TIME = "ERR Invalid TIME option argument for XCLAIM"
XCLAIM_RETRYCOUNT = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
XCLAIM_OPTION = "ERR Unrecognized XCLAIM option '{}'"
XAUTOCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
XAUTOCLAIM_COUNT = "ERR COUNT must be > 0"
XSETID_ENTRIES_ADDED = "ERR entries_added must be positive"
XSETID_BELOW_GIVEN_MAX_DELETED = ("ERR The ID specified in XSETID is smaller than the provided "
                                  "max_deleted_entry_id")
XSETID_BELOW_TOP = "ERR The ID specified in XSETID is smaller than the target stream top item"
XSETID_ENTRIES_BELOW_LENGTH = ("ERR The entries_added specified in XSETID is smaller than the "
                               "target stream length")
XINFO_SYNTAX = "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP."


# --- Lua debugger (ledis/scripting/debugger.py, lua/debugger.lua) -----------------------------
# Script errors that end a session (Redis adds "ERR " and the script position).
LDB_PROTOCOL = "protocol error"
LDB_BUFFER = "max client buffer reached"
LDB_EVALSHA = "ERR Please use EVAL instead of EVALSHA for debugging"
# ledis only: Redis would start a session inside EXEC; ledis refuses the queued EVAL at once.
LDB_IN_MULTI = "ERR a debugging client cannot queue EVAL in MULTI (SCRIPT DEBUG NO first)"
LDB_NO_CONSOLE = "ERR the Lua debugger needs a RESP connection (embedded: use Engine.debug())"
LDB_SERVING = "the Lua debugger of the embedded API is not available while serve() runs"
LDB_SESSION_OPEN = "a Lua debugging session is open on this store: finish() or close() it first"

# --- clients: sharded pub/sub, CLUSTER, LATENCY, CLIENT TRACKING (issue #17) ----------------
CLUSTER_DISABLED = "ERR This instance has cluster support disabled"
SSUBSCRIBE_DENY_BLOCKING = "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"
LATENCY_NO_SAMPLES = "ERR No samples available for event '{}'"
TRACKING_ONE_REDIRECT = "ERR A client can only redirect to a single other client"
TRACKING_NO_REDIRECT = "ERR The client ID you want redirect to does not exist"
TRACKING_PREFIX_BCAST = "ERR PREFIX option requires BCAST mode to be enabled"
TRACKING_SWITCH_BCAST = (
    "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and "
    "then re-enabling it with a different mode.")
TRACKING_SWITCH_OPT = (
    "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and "
    "then re-enabling it with a different mode.")
TRACKING_BCAST_OPT = "ERR OPTIN and OPTOUT are not compatible with BCAST"
TRACKING_OPTIN_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode"
TRACKING_PREFIX_OVERLAP = (
    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client "
    "must not overlap.")
TRACKING_PREFIX_OVERLAP_EXISTING = (
    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must "
    "not overlap.")
TRACKING_CACHING_MODE = (
    "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
    "OPTOUT mode enabled")
TRACKING_CACHING_YES = (
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
TRACKING_CACHING_NO = (
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")

# --- Shared code and scheduled functions in FUNCTION libraries (ledis/scripting/modules.py,
# ledis/scripting/timers.py, ledis/commands/libraries.py; issue #16) ---------------------------
LIB_REQUIRED_BY = "ERR library '{}' is required by {}"
LIB_REQUIRE_MISSING = "ERR ledis.require: library '{}' is not loaded"
LIB_NOT_READY = "ERR ledis.require: library '{}' is not loaded yet"
LIB_EXPORTS_NOTHING = "ERR ledis.require: library '{}' exports nothing (ledis.export)"
LIB_CYCLE = "ERR library dependency cycle: {}"
LIB_DEPENDENT_FAILS = (
    "ERR library '{}' (which requires {}) does not load against the new version: {}"
)
LIB_LOADMANY_DUPLICATE = "ERR library '{}' given twice"
LIB_FCALL_ARGS = "ERR ledis.fcall expects a function name, a table of keys and a table of args"
LIB_FCALL_NESTED = (
    "ERR ledis.fcall cannot be called from a library function or timer (use ledis.require)"
)
TIMER_BAD_EVERY = (
    "ERR redis.register_timer: invalid every '{}' (a number with ms, s, m or h, at least 10ms)"
)
TIMER_BAD_CRON = "ERR redis.register_timer: invalid cron '{}': {}"

# --- security defaults (ledis/security.py; docs/reliability.md) --------------------------------
# Redis 7.0's reply to a non-loopback client while protected mode is on and the default user
# has no password (networking.c, clientAcceptHandler; read off redis-server 7.0.15, typo too).
DENIED_PROTECTED = (
    "DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from "
    "the loopback interface. If you want to connect from external computers to Redis you may "
    "adopt one of the following solutions: 1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from "
    "the same host the server is running, however MAKE SURE Redis is not publicly accessible "
    "from internet if you do so. Use CONFIG REWRITE to make this change permanent. "
    "2) Alternatively you can just disable the protected mode by editing the Redis "
    "configuration file, and setting the protected mode option to 'no', and then restarting "
    "the server. 3) If you started the server manually just for testing, restart it with the "
    "'--protected-mode no' option. 4) Setup a an authentication password for the default "
    "user. NOTE: You only need to do one of the above things in order for the server to "
    "start accepting connections from the outside."
)
# rename-command (Redis's config.c texts, after the key path)
RENAME_NO_SUCH_COMMAND = "No such command in rename-command: {}"
RENAME_TARGET_EXISTS = "Target command name already exists: {}"
RENAME_SUBCOMMAND = "only top-level commands can be renamed: {}"
# TLS (ledis/startup.py preflight): "ledis: tls error (<file or option>): <why>"
STARTUP_TLS = "tls error"
STARTUP_LISTEN_TLS = "cannot listen for TLS"
# CONFIG SET of the TLS options while TLS is in use (Redis's applyTlsCfg / applyTLSPort)
TLS_UPDATE_FAILED = "Unable to update TLS configuration. Check server logs."
TLS_LISTEN_FAILED = "Unable to listen on this port. Check server logs."
TLS_NO_CERT = "tls-cert-file and tls-key-file are required when TLS is on"
TLS_NO_CA = ("tls-ca-cert-file must be specified when tls-auth-clients is yes or optional "
             "(set tls-auth-clients no to accept clients without certificates)")
TLS_CANNOT_READ = "cannot read the file: {}"
TLS_BAD_CERT = "not a usable certificate/key pair: {}"
TLS_BAD_CA = "not a usable CA certificate file: {}"
TLS_BAD_PROTOCOLS = "unknown protocol {!r} (use TLSv1.2 and/or TLSv1.3)"

# --- ACL (ledis/acl.py, ledis/commands/acl.py) -------------------------------------------------
NOPERM_COMMAND = "NOPERM this user has no permissions to run the '{}' command"
NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = ("NOPERM this user has no permissions to access one of the channels used as "
                  "arguments")
SCRIPT_NOPERM_COMMAND = "ERR The user executing the script can't run this command or subcommand"
SCRIPT_NOPERM_KEY = ("ERR The user executing the script can't access at least one of the keys "
                     "mentioned in the command arguments")
SCRIPT_NOPERM_CHANNEL = ("ERR The user executing the script can't publish to the channel "
                         "mentioned in the command")
# EXEC checks the queued commands again, as Redis's execCommand (ACLCheckAllPerm)
_NOPERM_EXEC = ("NOPERM ACLs rules changed between the moment the transaction was accumulated "
                "and the EXEC call. This command is no longer allowed for the following reason: ")
NOPERM_EXEC_COMMAND = _NOPERM_EXEC + "no permission to execute the command or subcommand"
NOPERM_EXEC_KEY = _NOPERM_EXEC + "no permission to touch the specified keys"
NOPERM_EXEC_CHANNEL = _NOPERM_EXEC + "no permission to access one of the channels used as arguments"
ACL_SETUSER_MODIFIER = "ERR Error in ACL SETUSER modifier '{}': {}"
ACL_SYNTAX = "Syntax error"
ACL_UNKNOWN_NAME = "Unknown command or category name in ACL"
ACL_KEY_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid "
                     "and does not have any effect. Try 'resetkeys' to start with an empty list "
                     "of patterns")
ACL_CHANNEL_AFTER_ALL = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not "
                         "valid and does not have any effect. Try 'resetchannels' to start with "
                         "an empty list of channels")
ACL_NO_SUCH_PASSWORD = ("The password you are trying to remove from the user does not exist")
ACL_BAD_HASH = ("The password hash must be exactly 64 characters and contain only lowercase "
                "hexadecimal characters")
ACL_FIRSTARG_OF_SUB = "Allowing first-arg of a subcommand is not supported"
ACL_UNMATCHED_PAREN = "ERR Unmatched parenthesis in acl selector starting at '{}'."
ACL_DELETE_DEFAULT = "ERR The 'default' user cannot be removed"
ACL_USER_NOT_FOUND = "ERR User '{}' not found"
ACL_COMMAND_NOT_FOUND = "ERR Command '{}' not found"
ACL_UNKNOWN_CATEGORY = "ERR Unknown category '{}'"
ACL_GENPASS_BITS = ("ERR ACL GENPASS argument must be the number of bits for the output password, "
                    "a positive number up to 4096")
ACL_DRYRUN_CMD = "This user has no permissions to run the '{}' command"
ACL_DRYRUN_KEY = "This user has no permissions to access the '%s' key"
ACL_DRYRUN_CHANNEL = "This user has no permissions to access the '%s' channel"
ACL_NO_FILE = ("ERR This Redis instance is not configured to use an ACL file. You may want to "
               "specify users via the ACL SETUSER command and then issue a CONFIG REWRITE "
               "(assuming you have a Redis configuration file set) in order to store users in "
               "the Redis configuration.")
ACL_LOAD_OPEN = "ERR Error loading ACLs, opening file '{}': {}"
ACL_LOAD_ABORTED = ("WARNING: ACL errors detected, no change to the previously active ACL rules "
                    "was performed")
ACL_SAVE_FAILED = ("ERR There was an error trying to save the ACLs. Please check the server "
                   "logs for more information")
ACL_SUBCOMMAND_SYNTAX = ("ERR unknown subcommand or wrong number of arguments for '{}'. "
                         "Try ACL HELP.")


# --- keyspace triggers (ledis/scripting/triggers.py) -----------------------------------------
# Load-time texts follow "ERR Error registering functions: ERR " (FUNCTION_REGISTER).
TRIGGER_ARGS = "redis.register_trigger takes one table of named arguments"
TRIGGER_UNKNOWN_ARG = "unknown argument '{}' given to redis.register_trigger"
TRIGGER_NAME = ("redis.register_trigger needs a name of letters, numbers or underscores "
                "(name = '...')")
TRIGGER_NAME_TWICE = "trigger '{}' already exists in the library"
TRIGGER_KEYS = "keys given to redis.register_trigger must be a pattern or a table of patterns"
TRIGGER_EVENTS = "events given to redis.register_trigger must be a table of event names"
TRIGGER_UNKNOWN_EVENT = "unknown event '{}' given to redis.register_trigger"
TRIGGER_CALLBACK = "callback given to redis.register_trigger must be a function"
TRIGGER_ON_ERROR = "on_error given to redis.register_trigger must be 'abort' or 'log'"
TRIGGER_FLAG = "unknown flag '{}' given to redis.register_trigger"
# Run time: the firing command's error reply (its writes and the triggers' were discarded).
TRIGGER_FAILED = "ERR trigger {}.{} failed on {} of '{}', write discarded: {}"
TRIGGER_DEPTH = ("ERR triggers nested deeper than trigger_max_depth ({}) on {} of '{}', "
                 "write discarded")


# --- store faults: disk full, corruption (ledis/storage/engine.py, docs/reliability.md) ------
# Redis's stop-writes-on-bgsave-error MISCONF, adapted: while the store refuses writes, every
# command that may modify the data set is refused before it runs; reads go on.
STORE_WRITES_DISABLED = (
    "MISCONF ledis is currently unable to persist to disk (its store refused a write). "
    "Commands that may modify the data set are disabled until the store takes writes again "
    "(retried automatically once the disk has room). Please check the ledis logs for details "
    "about the error.")
# A read met a damaged block (RocksDB's checksum verification): the reply is this error,
# never the damaged value.
STORE_CORRUPT = ("ERR the store is damaged ({}); stop the server and run 'ledis check' on "
                 "its data directory")
STARTUP_STORE_OPEN = "cannot open the store"
STORE_OPEN_WHY = "{} (see 'ledis check {}' and 'ledis repair {}')"
# The store's disk format (ledis/storage/migrate.py): written by a newer ledis.
STORE_FORMAT_NEWER = ("the store is in disk format {}, newer than this ledis reads (format {}); "
                      "run the ledis version that wrote it (or a newer one), or dump it there "
                      "with 'ledis dump' and load the dump here")
STARTUP_STORE_FORMAT = "unknown disk format"

# --- DEBUG (ledis/commands/debug.py) -----------------------------------------------------------
PROTECTED_COMMAND = ("ERR {} command not allowed. If the {} option is set to \"local\", you can "
                     "run it from a local connection, otherwise you need to set this option in "
                     "the configuration file, and then restart the server.")
DEBUG_SUBCOMMAND = ("ERR unknown subcommand or wrong number of arguments for '{}'. "
                    "Try DEBUG HELP.")
DEBUG_PUSH_RESP2 = "ERR RESP2 is not supported by this command"
DEBUG_PROTOCOL_TYPE = ("ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|"
                       "true|false")
MODULE_LOAD = "ERR Error loading the extension. Please check the server logs."
MODULE_UNLOAD = "ERR Error unloading module: no such module with that name"
