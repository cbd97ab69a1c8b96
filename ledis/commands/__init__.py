"""Command modules. Importing this package registers every command (see registry.py).

One module per family: it parses arguments and shapes replies; storage lives in
``ledis.storage``. Add a new module to the import list below.
"""

from ledis.commands import (  # noqa: F401
    bitmaps,
    connection,
    functions,
    hashes,
    introspection,
    keys,
    lists,
    monitoring,
    persistence,
    pubsub,
    replication,
    scripting,
    serialize,
    server,
    sets,
    slowlog,
    strings,
    transactions,
    triggers,
    zsetops,
    zsets,
)
