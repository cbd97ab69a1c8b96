"""Server commands: INFO, CONFIG, DBSIZE, FLUSHDB/FLUSHALL, TIME, LASTSAVE, SHUTDOWN.

SAVE / BGSAVE (RocksDB checkpoints) live in ``ledis.commands.persistence``.

INFO speaks Redis 7.0's sections and field names (tools parse them: redis-cli, exporters,
redis-py's ``info()``); fields that have no meaning in ledis are present with Redis's idle
values so parsers find them. Other subsystems add or replace fields through
``core.info_hooks[section]`` (a callable returning ``(name, value)`` pairs), e.g. replication
or the scripting runtime's ``used_memory_lua``.

CONFIG covers every Redis 7.0 parameter (``ledis.config.RuntimeConfig``): a few act on ledis,
the rest are stored only; docs/config.md lists which.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time

from ledis import errors
from ledis.commands.registry import REGISTRY, command
from ledis.config import ParamError, RuntimeConfig, UnknownParam
from ledis.errors import LedisError
from ledis.replies import OK, Map, Raw, Simple, Verbatim

# --- keyspace -------------------------------------------------------------------------------


@command("dbsize", arity=1, flags="readonly fast", group="server",
         summary="Return the number of keys in the selected database", acl="@keyspace @read @fast")
def cmd_dbsize(ctx, argv):
    return ctx.db.keys


def _flush_mode(argv) -> None:
    """FLUSHDB/FLUSHALL [ASYNC|SYNC]: both are O(1) range deletes here, so both act at once."""
    if len(argv) > 2 or (len(argv) == 2 and argv[1].upper() not in (b"ASYNC", b"SYNC")):
        raise LedisError(errors.SYNTAX)


@command("flushall", arity=-1, flags="write", group="server",
         summary="Remove all keys from all databases", acl="@keyspace @write @slow @dangerous")
def cmd_flushall(ctx, argv):
    _flush_mode(argv)
    ctx.core.store.flushall()
    return OK


@command("flushdb", arity=-1, flags="write", group="server",
         summary="Remove all keys from the current database",
         acl="@keyspace @write @slow @dangerous")
def cmd_flushdb(ctx, argv):
    _flush_mode(argv)
    ctx.db.flush()
    return OK


# --- time and persistence -----------------------------------------------------------------


@command("time", arity=1, flags="loading stale fast", group="server",
         summary="Return the current server time", since="2.6.0", acl="@fast")
def cmd_time(ctx, argv):
    now = time.time_ns() // 1000
    return [b"%d" % (now // 1_000_000), b"%d" % (now % 1_000_000)]


@command("lastsave", arity=1, flags="loading stale fast", group="server",
         summary="Get the UNIX time stamp of the last successful save to disk",
         acl="@admin @fast @dangerous")
def cmd_lastsave(ctx, argv):
    return ctx.core.lastsave


@command("shutdown", arity=-1, flags="admin noscript loading stale no_multi allow_busy",
         group="server", summary="Synchronously save the dataset to disk and then shut down "
         "the server", acl="@admin @slow @dangerous")
def cmd_shutdown(ctx, argv):
    """SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: commit, close the store, exit 0.

    There is nothing to save beyond the commit (the data is in RocksDB); the options are
    parsed as Redis does. On success no reply is sent: the connection just closes."""
    flags = set()
    for arg in argv[1:]:
        word = arg.upper()
        if word not in (b"NOSAVE", b"SAVE", b"NOW", b"FORCE", b"ABORT"):
            raise LedisError(errors.SYNTAX)
        flags.add(word)
    if ({b"NOSAVE", b"SAVE"} <= flags) or (b"ABORT" in flags and len(flags) > 1):
        raise LedisError(errors.SYNTAX)
    if b"ABORT" in flags:
        raise LedisError(errors.SHUTDOWN_NOT_IN_PROGRESS)
    core = ctx.core
    server = getattr(core, "server", None)
    if server is None:  # embedded: no process to stop, just close the store
        core.close()
        return OK
    server.request_shutdown()
    ctx.close_after_reply = True
    return Raw(b"")


# --- INFO ----------------------------------------------------------------------------------

DEFAULT_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication",
                    "cpu", "modules", "errorstats", "cluster", "keyspace")
ALL_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace")


def _human(n: float) -> str:
    for unit, size in (("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if n >= size:
            return f"{n / size:.2f}{unit}"
    return f"{int(n)}B"


def _rss() -> int:
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _total_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _blocked_count() -> int:
    try:
        from ledis import blocking

        return int(blocking.blocked_count())
    except Exception:  # noqa: BLE001 - the module is optional / still being written
        return 0


def _section_server(core):
    from ledis.version import REDIS_VERSION, __version__, compiled_modules

    now = time.time()
    uptime = int(now - core.started)
    server = getattr(core, "server", None)
    compiled = compiled_modules()
    return [
        ("redis_version", REDIS_VERSION), ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", 0), ("redis_build_id", "0"), ("redis_mode", "standalone"),
        ("os", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("arch_bits", 64), ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll"), ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"), ("process_id", os.getpid()), ("process_supervised", "no"),
        ("run_id", core.run_id),
        ("tcp_port", server.port if server is not None else core.config.port),
        ("server_time_usec", time.time_ns() // 1000), ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400), ("hz", 10), ("configured_hz", 10),
        ("lru_clock", int(now) & ((1 << 24) - 1)), ("executable", sys.executable),
        ("config_file", core.config.extra.get("__file__", "")), ("io_threads_active", 0),
        ("ledis_version", __version__),
        # the hot path compiled by setup.py (Cython), or the .py source (a pure build, or
        # LEDIS_INTERPRETED=1): docs/PERFORMANCE.md "Compiled hot path"
        ("ledis_compiled", "yes" if compiled else "no"),
        ("ledis_compiled_modules", len(compiled)),
    ]


def _tracking(core) -> dict:
    """CLIENT TRACKING's INFO fields (ledis/tracking.py); zeros until it is first used."""
    if core.tracking is None:
        return {"tracking_clients": 0, "tracking_total_keys": 0, "tracking_total_items": 0,
                "tracking_total_prefixes": 0}
    return core.tracking.info()


def _section_clients(core):
    normal = sum(1 for c in core.clients.values() if not c.is_replica_link)
    return [
        ("connected_clients", normal), ("cluster_connections", 0),
        ("maxclients", core.config.maxclients), ("client_recent_max_input_buffer", 0),
        ("client_recent_max_output_buffer", 0), ("blocked_clients", _blocked_count()),
        ("tracking_clients", _tracking(core)["tracking_clients"]),
        ("clients_in_timeout_table", 0),
    ]


def _section_memory(core):
    """Memory is the process RSS (RocksDB's block cache and memtables included); Redis's
    allocator breakdown has no equivalent and reads as idle values."""
    rss = _rss()
    total = _total_memory()
    runtime = RuntimeConfig(core)
    maxmemory = int(runtime.get("maxmemory") or 0)
    lua = scripts = 0
    scripting = getattr(core, "scripting", None)
    if scripting is not None:
        try:
            lua = int(scripting.memory_used())
            scripts = int(scripting.number_of_cached_scripts)
        except Exception:  # noqa: BLE001 - INFO must not fail on a subsystem's error
            pass
    fn_count = lib_count = fn_vm = 0
    functions = getattr(core, "functions", None)  # ledis/scripting/functions.py
    if functions is not None:
        try:
            fn_count, lib_count = len(functions.functions), len(functions.libraries)
            fn_vm = int(functions.memory_used())
        except Exception:  # noqa: BLE001 - INFO must not fail on a subsystem's error
            pass
    return [
        ("used_memory", rss), ("used_memory_human", _human(rss)), ("used_memory_rss", rss),
        ("used_memory_rss_human", _human(rss)), ("used_memory_peak", rss),
        ("used_memory_peak_human", _human(rss)), ("used_memory_peak_perc", "100.00%"),
        ("used_memory_overhead", 0), ("used_memory_startup", 0), ("used_memory_dataset", rss),
        ("used_memory_dataset_perc", "100.00%"), ("allocator_allocated", rss),
        ("allocator_active", rss), ("allocator_resident", rss),
        ("total_system_memory", total), ("total_system_memory_human", _human(total)),
        ("used_memory_lua", lua), ("used_memory_vm_eval", lua),
        ("used_memory_lua_human", _human(lua)), ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", scripts), ("number_of_functions", fn_count),
        ("number_of_libraries", lib_count), ("used_memory_vm_functions", fn_vm),
        ("used_memory_vm_total", lua + fn_vm),
        ("used_memory_vm_total_human", _human(lua + fn_vm)), ("used_memory_functions", 0),
        ("used_memory_scripts", 0), ("used_memory_scripts_human", "0B"),
        ("maxmemory", maxmemory), ("maxmemory_human", _human(maxmemory)),
        ("maxmemory_policy", runtime.get("maxmemory-policy")),
        ("allocator_frag_ratio", "1.00"), ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", "1.00"), ("allocator_rss_bytes", 0),
        ("rss_overhead_ratio", "1.00"), ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", "1.00"), ("mem_fragmentation_bytes", 0),
        ("mem_not_counted_for_evict", 0), ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0), ("mem_clients_slaves", 0),
        ("mem_clients_normal", 0), ("mem_cluster_links", 0), ("mem_aof_buffer", 0),
        ("mem_allocator", "libc"), ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0), ("lazyfreed_objects", 0),
    ]


def _section_persistence(core):
    return [
        ("loading", 1 if core._loading else 0), ("async_loading", 0),
        ("current_cow_peak", 0), ("current_cow_size", 0),
        ("current_cow_size_age", 0), ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", 0), ("current_save_keys_total", 0),
        ("rdb_changes_since_last_save", 0), ("rdb_bgsave_in_progress", 0),
        ("rdb_last_save_time", core.lastsave), ("rdb_last_bgsave_status", "ok"),
        ("rdb_last_bgsave_time_sec", -1), ("rdb_current_bgsave_time_sec", -1),
        ("rdb_saves", 0), ("rdb_last_cow_size", 0), ("rdb_last_load_keys_expired", 0),
        ("rdb_last_load_keys_loaded", 0), ("aof_enabled", 0), ("aof_rewrite_in_progress", 0),
        ("aof_rewrite_scheduled", 0), ("aof_last_rewrite_time_sec", -1),
        ("aof_current_rewrite_time_sec", -1), ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", 0), ("aof_rewrites_consecutive_failures", 0),
        # Redis's field for a failed AOF write; here a write the store refused (a full disk)
        ("aof_last_write_status", "ok" if core.engine.write_error is None else "err"),
        ("aof_last_cow_size", 0),
        ("module_fork_in_progress", 0), ("module_fork_last_cow_size", 0),
    ] + _store_write_fields(core.engine)


def _store_write_fields(engine) -> list[tuple[str, object]]:
    """Whether the store takes writes: a full disk makes it refuse them (write commands get
    MISCONF) until ``Engine.recover`` reopens it, which the server's cron retries."""
    error = engine.write_error
    return [
        ("store_write_status", "ok" if error is None else "err"),
        ("store_write_error_secs",
         round(time.time() - engine.write_error_since) if error is not None else -1),
        ("store_write_errors", engine.write_errors),
        ("store_write_recoveries", engine.write_recoveries),
    ]


def _section_stats(core):
    stats = core.stats
    dbs = core.store.dbs
    return [
        ("total_connections_received", stats["total_connections_received"]),
        ("total_commands_processed", core.total_commands()),
        ("instantaneous_ops_per_sec", stats.get("instantaneous_ops_per_sec", 0)),
        ("total_net_input_bytes", stats.get("total_net_input_bytes", 0)),
        ("total_net_output_bytes", stats.get("total_net_output_bytes", 0)),
        ("total_net_repl_input_bytes", 0), ("total_net_repl_output_bytes", 0),
        ("instantaneous_input_kbps", f"{stats.get('instantaneous_input_bps', 0) / 1024:.2f}"),
        ("instantaneous_output_kbps", f"{stats.get('instantaneous_output_bps', 0) / 1024:.2f}"),
        ("instantaneous_input_repl_kbps", "0.00"), ("instantaneous_output_repl_kbps", "0.00"),
        ("rejected_connections", stats["rejected_connections"]),
        ("sync_full", 0), ("sync_partial_ok", 0), ("sync_partial_err", 0),
        ("expired_keys", stats["expired_keys"] + sum(db.lazy_expired for db in dbs)),
        ("expired_stale_perc", "0.00"),
        ("expired_time_cap_reached_count", stats["expired_time_cap_reached_count"]),
        ("expire_cycle_cpu_milliseconds", stats["expire_cycle_cpu_milliseconds"]),
        ("streamed_replies", stats["streamed_replies"]),
        ("streamed_reply_chunk_max_us", stats["streamed_reply_chunk_max_us"]),
        ("evicted_keys", 0), ("evicted_clients", 0), ("total_eviction_exceeded_time", 0),
        ("current_eviction_exceeded_time", 0),
        ("keyspace_hits", sum(db.hits for db in dbs)),
        ("keyspace_misses", sum(db.misses for db in dbs)),
        ("pubsub_channels", stats.get("pubsub_channels", 0)),
        ("pubsub_patterns", stats.get("pubsub_patterns", 0)),
        ("pubsubshard_channels", stats.get("pubsubshard_channels", 0)),
        ("latest_fork_usec", 0), ("total_forks", 0), ("migrate_cached_sockets", 0),
        ("slave_expires_tracked_keys", 0), ("active_defrag_hits", 0),
        ("active_defrag_misses", 0), ("active_defrag_key_hits", 0),
        ("active_defrag_key_misses", 0), ("total_active_defrag_time", 0),
        ("current_active_defrag_time", 0),
        *[(k, v) for k, v in _tracking(core).items() if k != "tracking_clients"],
        ("unexpected_error_replies", 0),
        ("total_error_replies", stats["total_error_replies"]),
        ("dump_payload_sanitizations", 0),
        ("total_reads_processed", stats["total_reads_processed"]),
        ("total_writes_processed", stats["total_writes_processed"]),
        ("io_threaded_reads_processed", 0),
        ("io_threaded_writes_processed", 0), ("reply_buffer_shrinks", 0),
        ("reply_buffer_expands", 0),
    ]


def _section_replication(core):
    replid = getattr(core, "replid", None) or core.run_id
    return [
        ("role", "slave" if core.readonly else "master"), ("connected_slaves", 0),
        ("master_failover_state", "no-failover"), ("master_replid", replid),
        ("master_replid2", "0" * 40), ("master_repl_offset", 0), ("second_repl_offset", -1),
        ("repl_backlog_active", 0), ("repl_backlog_size", 1048576),
        ("repl_backlog_first_byte_offset", 0), ("repl_backlog_histlen", 0),
    ]


def _section_cpu(core):
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [
        ("used_cpu_sys", f"{me.ru_stime:.6f}"), ("used_cpu_user", f"{me.ru_utime:.6f}"),
        ("used_cpu_sys_children", f"{children.ru_stime:.6f}"),
        ("used_cpu_user_children", f"{children.ru_utime:.6f}"),
        ("used_cpu_sys_main_thread", f"{me.ru_stime:.6f}"),
        ("used_cpu_user_main_thread", f"{me.ru_utime:.6f}"),
    ]


def _all_commands(core):
    for cmd in core.commands.values():
        yield cmd
        yield from cmd.subcommands.values()


def _section_commandstats(core):
    out = []
    for cmd in _all_commands(core):
        if cmd.calls or cmd.failed_calls or cmd.rejected_calls:
            usec = int(cmd.usec)
            per_call = cmd.usec / cmd.calls if cmd.calls else 0.0
            out.append((f"cmdstat_{cmd.name}",
                        f"calls={cmd.calls},usec={usec},usec_per_call={per_call:.2f},"
                        f"rejected_calls={cmd.rejected_calls},failed_calls={cmd.failed_calls}"))
    return out


def _section_errorstats(core):
    return [(f"errorstat_{prefix}", f"count={count}")
            for prefix, count in sorted(core.errorstats.items())]


def _latency_info(core):
    from ledis.commands.latency import latency_info  # LATENCY HISTOGRAM's counts

    return latency_info(core)


def _section_keyspace(core):
    return [(f"db{db.logical}", f"keys={db.keys},expires={db.expires},avg_ttl=0")
            for db in core.store.dbs if db.keys]


_SECTIONS = {
    "server": ("Server", _section_server),
    "clients": ("Clients", _section_clients),
    "memory": ("Memory", _section_memory),
    "persistence": ("Persistence", _section_persistence),
    "stats": ("Stats", _section_stats),
    "replication": ("Replication", _section_replication),
    "cpu": ("CPU", _section_cpu),
    "modules": ("Modules", lambda core: []),
    "commandstats": ("Commandstats", _section_commandstats),
    "errorstats": ("Errorstats", _section_errorstats),
    "latencystats": ("Latencystats", lambda core: _latency_info(core)),
    "cluster": ("Cluster", lambda core: [("cluster_enabled", 0)]),
    "keyspace": ("Keyspace", _section_keyspace),
}


def info_text(core, wanted: list[str]) -> str:
    """The INFO string for the requested section names (lower case, keywords allowed)."""
    names: list[str] = []
    for word in wanted or ["default"]:
        chosen: tuple[str, ...]
        if word == "default":
            chosen = DEFAULT_SECTIONS
        elif word in ("all", "everything"):
            chosen = ALL_SECTIONS
        else:
            chosen = (word,)
        for name in chosen:
            if name not in names:
                names.append(name)
    hooks = getattr(core, "info_hooks", {})
    parts = []
    for name in ALL_SECTIONS:
        if name not in names:
            continue
        title, build = _SECTIONS[name]
        fields = build(core)
        hook = hooks.get(name)
        if hook is not None:
            try:
                extra = dict(hook())
            except Exception:  # noqa: BLE001 - a broken hook must not break INFO
                extra = {}
            if extra:
                known = {k for k, _ in fields}
                fields = [(k, extra.get(k, v)) for k, v in fields]
                fields += [(k, v) for k, v in extra.items() if k not in known]
        lines = "".join(f"{k}:{v}\r\n" for k, v in fields)
        parts.append(f"# {title}\r\n{lines}")
    return "\r\n".join(parts)


@command("info", arity=-1, flags="loading stale", group="server",
         summary="Get information and statistics about the server", acl="@slow @dangerous")
def cmd_info(ctx, argv):
    wanted = [a.decode("utf-8", "replace").lower() for a in argv[1:]]
    return Verbatim(info_text(ctx.core, wanted).encode())


# --- CONFIG --------------------------------------------------------------------------------


def runtime_config(core) -> RuntimeConfig:
    runtime = getattr(core, "runtime_config", None)
    if runtime is None:
        runtime = RuntimeConfig(core)
        core.runtime_config = runtime
    return runtime


@command("config|get", arity=-3, flags="admin noscript loading stale", group="server",
         summary="Get the values of configuration parameters", since="2.0.0",
         acl="@admin @slow @dangerous")
def cmd_config_get(ctx, argv):
    return Map((k.encode(), v.encode()) for k, v in runtime_config(ctx.core).match(argv[2:]))


@command("config|set", arity=-4, flags="admin noscript loading stale", group="server",
         summary="Set configuration parameters to the given values", since="2.0.0",
         acl="@admin @slow @dangerous")
def cmd_config_set(ctx, argv):
    if len(argv) % 2:
        raise LedisError(errors.SYNTAX)
    pairs = [(argv[i].decode("utf-8", "replace").lower(), argv[i + 1].decode("utf-8", "replace"))
             for i in range(2, len(argv), 2)]
    try:
        runtime_config(ctx.core).set_many(pairs)
    except UnknownParam as exc:
        raise LedisError(errors.CONFIG_UNKNOWN_PARAM.format(exc.args[0])) from None
    except ParamError as exc:
        name, reason = str(exc).split("\0", 1)
        if reason == "immutable":
            reason = "can't set immutable config"
        elif reason == "protected":
            reason = "can't set protected config"
        raise LedisError(errors.CONFIG_BAD_VALUE.format(name, reason)) from None
    return OK


@command("config|resetstat", arity=2, flags="admin noscript loading stale", group="server",
         summary="Reset the stats returned by INFO", since="2.0.0", acl="@admin @slow @dangerous")
def cmd_config_resetstat(ctx, argv):
    core = ctx.core
    for key in core.stats:
        core.stats[key] = 0
    core.errorstats.clear()
    for db in core.store.dbs:
        db.hits = db.misses = db.lazy_expired = 0
    for cmd in _all_commands(core):
        cmd.calls = cmd.rejected_calls = cmd.failed_calls = 0
        cmd.usec = 0.0
        cmd.latency_histogram = None  # LATENCY HISTOGRAM starts over, as in Redis
    return OK


@command("config|rewrite", arity=2, flags="admin noscript loading stale", group="server",
         summary="Rewrite the configuration file with the in memory configuration",
         since="2.8.0", acl="@admin @slow @dangerous")
def cmd_config_rewrite(ctx, argv):
    try:
        runtime_config(ctx.core).rewrite()
    except ParamError:
        raise LedisError(errors.CONFIG_NO_FILE) from None
    except OSError as exc:
        raise LedisError(errors.CONFIG_REWRITE_FAILED.format(exc.strerror or exc)) from None
    return OK


_CONFIG_HELP = """CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
GET <pattern>
    Return parameters matching the glob-like <pattern> and their values.
SET <directive> <value>
    Set the configuration <directive> to <value>.
RESETSTAT
    Reset statistics reported by the INFO command.
REWRITE
    Rewrite the configuration file.
HELP
    Prints this help."""


@command("config|help", arity=2, flags="loading stale", group="server",
         summary="Show helpful text about the different subcommands", since="5.0.0",
         acl="@slow")
def cmd_config_help(ctx, argv):
    return [Simple(line.encode()) for line in _CONFIG_HELP.split("\n")]


__all__ = ["info_text", "runtime_config", "REGISTRY"]
