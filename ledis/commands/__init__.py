"""Command modules. Importing this package registers every command (see registry.py).

One module per family: it parses arguments and shapes replies; storage lives in
``ledis.storage``. Add a new module to the import list below.
"""

from ledis.commands import (  # noqa: F401
    acl,
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
    server,
    sets,
    slowlog,
    strings,
    transactions,
    zsetops,
    zsets,
)
