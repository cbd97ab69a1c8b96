"""ledis: a Redis-protocol datastore on RocksDB with a sandboxed LuaJIT runtime."""

__version__ = "0.1.0"
# The Redis version ledis speaks (INFO redis_version, HELLO, redis.REDIS_VERSION).
REDIS_VERSION = "7.0.15"
