"""Version strings: a leaf module, so every layer may name them without importing the package
(whose ``__init__`` is the embedded API's entry point)."""

import sys
from importlib.machinery import ExtensionFileLoader

__version__ = "0.1.0"
# The Redis version ledis speaks (INFO redis_version, HELLO, redis.REDIS_VERSION).
REDIS_VERSION = "7.0.15"


def compiled_modules() -> list[str]:
    """The ``ledis.*`` modules running compiled (setup.py builds the hot path with Cython;
    ``LEDIS_INTERPRETED=1`` or a pure build runs none): INFO server's ``ledis_compiled``."""
    return sorted(name for name, module in list(sys.modules.items())
                  if name.startswith("ledis.") and isinstance(
                      getattr(getattr(module, "__spec__", None), "loader", None),
                      ExtensionFileLoader))
