"""Command modules. Importing this package registers every command (see registry.py).

One module per family: it parses arguments and shapes replies; storage lives in
``ledis.storage``. Add a new module to the import list below.
"""

from ledis.commands import (  # noqa: F401
    acl,
    bitmaps,
    cluster,
    connection,
    debug,
    expire,
    functions,
    geo,
    hashes,
    hyperloglog,
    introspection,
    keys,
    latency,
    libraries,
    lists,
    memory,
    monitoring,
    objects,
    persistence,
    pubsub,
    replication,
    scripting,
    serialize,
    server,
    sets,
    slowlog,
    sort,
    streamgroups,
    streams,
    strings,
    tracking,
    transactions,
    triggers,
    zranges,
    zsetops,
    zsets,
)
