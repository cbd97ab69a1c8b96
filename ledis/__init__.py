"""ledis: a Redis-protocol datastore on RocksDB with a sandboxed LuaJIT runtime.

Embedded use (docs/embedding.md)::

    import ledis
    with ledis.open("./data") as db:
        db.hset("h", "f", "v")
"""

import os as _os
import sys as _sys
from importlib.machinery import ExtensionFileLoader as _ExtensionFileLoader
from importlib.machinery import PathFinder as _PathFinder
from importlib.util import spec_from_file_location as _spec_from_file_location

# The hot path may be compiled (setup.py: Cython builds a .so next to each of its .py files,
# and Python prefers the .so). LEDIS_INTERPRETED=1 loads the .py source instead, so one install
# runs, and CI tests, both modes; INFO server reports the mode (ledis.version.compiled_modules).
INTERPRETED = _os.environ.get("LEDIS_INTERPRETED", "") not in ("", "0")


class _SourceFirst:
    """A meta-path finder for ``ledis.*`` that hands out the ``.py`` source where the path
    finder would have picked an extension module."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if not fullname.startswith("ledis.") or path is None:
            return None
        spec = _PathFinder.find_spec(fullname, path, target)
        if spec is None or not isinstance(spec.loader, _ExtensionFileLoader):
            return spec
        source = _os.path.join(_os.path.dirname(spec.origin), fullname.rpartition(".")[2] + ".py")
        return _spec_from_file_location(fullname, source) if _os.path.exists(source) else spec


if INTERPRETED:
    _sys.meta_path.insert(0, _SourceFirst)


from ledis.version import REDIS_VERSION, __version__  # noqa: E402,F401  (ledis.__version__)


def open(path=None, memory=False, **config):  # noqa: A001 - ledis.open, like LedisDB's Open
    """Open an embedded store: see :func:`ledis.embedded.open`."""
    from ledis.embedded import open as _open

    return _open(path, memory, **config)


def __getattr__(name):
    # Lazy, so `python -m ledis server` does not import the embedded API.
    if name in ("ResponseError", "WrongTypeError", "NoScriptError", "AuthenticationError",
                "ReadOnlyError", "BusyError", "StoreLockedError", "Engine"):
        from ledis import embedded

        return getattr(embedded, name)
    raise AttributeError(f"module 'ledis' has no attribute {name!r}")
