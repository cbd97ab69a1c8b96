"""The composition root: the one place that builds a ledis instance and wires its parts.

``build(config)`` opens the engine (RocksDB or memory), creates the :class:`~ledis.core.Core`
(the dispatcher and its bookkeeping), then each part that plugs into it, and registers every
hook those parts hang on the core: the dispatcher's slow-path checks (MULTI queueing, the
RESP2 subscriber rule, CLIENT TRACKING reads), its MONITOR / CLIENT PAUSE / EXEC-abort hooks,
the write observer (WATCH, keyspace notifications), RESET / disconnect cleanups, and the
expiry events. Nothing is installed lazily on a command's first use: what a fresh core can do
is readable here, in order. ``ledis server`` (ledis/cli.py), the embedded API
(ledis/embedded.py) and the offline loader (ledis/tools/load.py) all build through it; the
RESP server, the HTTP API and the replication links are then started by
:class:`ledis.server.app.Server` on the core built here.

It lives in ``ledis/server/`` (not ``ledis/app.py``, too easily confused with the RESP
server's ``ledis/server/app.py``) because it belongs to the top layer: it may import every
layer below (docs/architecture.md, "Layers"), and nothing below imports it.
"""

from __future__ import annotations

import ledis.commands  # noqa: F401  (first: every @command registered; breaks the acl cycle)
from ledis import blocking, malloc, tracking
from ledis.access import AccessTracker
from ledis.acl import ACL
from ledis.commands import debug, monitoring, pubsub, transactions
from ledis.commands.registry import REGISTRY
from ledis.config import Config, ConfigError
from ledis.core import Core
from ledis.errors import LedisError
from ledis.pubsub import attach_expiry_events
from ledis.replication import Replication
from ledis.scripting.functions import Functions
from ledis.security import command_table
from ledis.server.busy import ServedScripting
from ledis.storage import engine as engine_module
from ledis.storage.types import zset


def load_commands() -> None:
    """Every command module imported, so their ``@command`` declarations are registered
    (done by importing this module: a no-op kept for callers that only need the registry)."""


def open_engine(config: Config) -> engine_module.Engine:
    """The storage engine ``config`` asks for; raises StoreLockedError if a process holds it."""
    engine_class = engine_module.Engine
    if config.backend == "memory":
        from ledis.storage.memory import MemoryEngine as engine_class  # type: ignore
    # before the store allocates anything: glibc's thresholds, pinned (docs/memory.md)
    malloc.set_thresholds(config.malloc_mmap_threshold_kb)
    return engine_class(
        config.dir,
        fsync=config.appendfsync,
        block_cache_mb=config.block_cache_mb,
        compression=config.compression,
        bottommost_compression=config.compression_bottommost,
        cache_entries=config.cache_entries,
        write_buffer_mb=config.write_buffer_mb,
        mmap_threshold_kb=config.malloc_mmap_threshold_kb,
    )


def build(config: Config) -> Core:
    """A ready core over ``config``'s data dir: every part built, every hook registered.
    Raises StoreLockedError (the directory is in use) or ConfigError (a bad ACL file)."""
    # a bad rename-command is a one-line ConfigError before the store is created on disk
    command_table(REGISTRY.commands, config)
    core = Core(config, open_engine(config))
    try:
        core.acl = ACL(core)  # before any Context: a context starts as the default user
        if core.acl.path:
            try:
                core.acl.load(startup=True)
            except LedisError as exc:
                raise ConfigError(f"aclfile: {exc.text[4:]}") from None
        core.access = AccessTracker()
        core.refresh_hot_flags()
        # Storage stays free of the blocking machinery: ZADD & co. signal through this hook.
        zset.key_ready = blocking.key_ready
        # The dispatcher's slow-path checks after its gates (Core._checks), in order: MULTI
        # queueing, then tracking's reads.
        pubsub.install(core)
        transactions.install(core)  # before FUNCTION libraries: triggers wrap its observer
        monitoring.install(core)
        debug.install(core)
        tracking.install(core)
        core.scripting = ServedScripting(core)
        core.functions = Functions(core)
        core.functions.startup()  # reloads the libraries stored in ``sys`` (and triggers)
        core.replication = Replication(core)
        attach_expiry_events(core)
    except BaseException:
        core.store.close()
        raise
    return core
