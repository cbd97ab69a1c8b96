"""Version strings: a leaf module, so every layer may name them without importing the package
(whose ``__init__`` is the embedded API's entry point)."""

__version__ = "0.1.0"
# The Redis version ledis speaks (INFO redis_version, HELLO, redis.REDIS_VERSION).
REDIS_VERSION = "7.0.15"
