"""ledis: a Redis-protocol datastore on RocksDB with a sandboxed LuaJIT runtime.

Embedded use (docs/embedding.md)::

    import ledis
    with ledis.open("./data") as db:
        db.hset("h", "f", "v")
"""

from ledis.version import REDIS_VERSION, __version__  # noqa: F401  (ledis.__version__)


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
