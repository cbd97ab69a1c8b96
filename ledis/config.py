"""Configuration: defaults, the YAML file, command-line overrides.

One YAML file (``--config ledis.yaml``); every option has a default here. Sections group the
options (``storage:``, ``scripting:`` ...); each option maps to one attribute of
:class:`Config`. Command-line flags override the file. Unknown keys, bad types and out-of-range
values are rejected at startup with the key path (or the flag) in the message: every range is
checked once, in :meth:`Config.set` (``RANGES``), which the YAML file, the flags and the
environment all go through. ``ledis/startup.py`` turns a :class:`ConfigError` into one line.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

import yaml

from ledis import errors
from ledis.config_values import SHOWN, ApplyError, ParamError, memtoull, parse_value

# ``loglevel`` values -> Python logging levels (``ledis server`` and CONFIG SET loglevel).
LOG_LEVELS = {
    "debug": logging.DEBUG, "verbose": logging.INFO, "notice": logging.INFO,
    "warning": logging.WARNING,
}


class ConfigError(ValueError):
    """A bad option. ``source`` says where it came from: the YAML file's path, "command line"
    or "environment" (the message itself names the key path or the flag)."""

    def __init__(self, message: str, source: str = "") -> None:
        super().__init__(message)
        self.source = source


INT_MAX = 2**31 - 1


@dataclass
class Config:
    # network
    bind: str = "127.0.0.1"
    port: int = 6380
    maxclients: int = 10000
    timeout: int = 0  # idle seconds before a client is closed; 0 = never
    tcp_keepalive: int = 300
    proto_max_bulk_len: int = 512 * 1024 * 1024
    # Redis's client-query-buffer-limit: a client whose unparsed input grows past it is closed
    client_query_buffer_limit: int = 1024 * 1024 * 1024
    # A reply of more entries than this (KEYS, HGETALL, SMEMBERS, LRANGE ... of a big
    # collection) is sent in chunks of this many, one per loop iteration (ledis.replies.Stream)
    # so other clients are served meanwhile; 0 = build every reply at once.
    reply_chunk_entries: int = 1024
    requirepass: str = ""
    databases: int = 16
    # security defaults (ledis/security.py, docs/reliability.md): Redis's names and defaults
    protected_mode: bool = True  # no password: only 127.0.0.1 / ::1 peers may connect
    # Redis's rename-command: {FLUSHALL: "", CONFIG: "ADMIN-CONFIG"} ("" removes a command)
    rename_command: dict[str, str] = field(default_factory=dict)
    tls_port: int = 0  # RESP over TLS on this port (0 = off), beside the plain ``port``
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_ca_cert_file: str = ""  # CA that client certificates must chain to
    tls_auth_clients: str = "yes"  # yes | no | optional: client certificates
    tls_protocols: str = ""  # "TLSv1.2 TLSv1.3" when empty
    # storage
    backend: str = "rocksdb"  # rocksdb | memory (ledis/storage/memory.py: nothing persists)
    dir: str = "./data"
    appendfsync: str = "everysec"  # always | everysec | no
    compression: str = "lz4"  # none | lz4 | zstd | snappy
    compression_bottommost: str = ""  # "" = same as compression; or none | lz4 | zstd | snappy
    block_cache_mb: int = 64
    cache_entries: int = 200_000
    # RocksDB memtable size in MiB; all families share a budget of twice this (docs/memory.md)
    write_buffer_mb: int = 8
    # give glibc's free heap memory back to the system every N seconds (0 = never), in a
    # thread: compactions leave tens of MB free but resident in its arenas (docs/soak.md)
    malloc_trim_s: int = 10
    # glibc's mmap threshold in KiB, pinned at startup (its trim threshold with it, at 128 KiB):
    # blocks this big or bigger are mmapped and returned when freed; 0 = glibc's default,
    # which rises after big frees so compaction buffers stay in the heap (docs/memory.md)
    malloc_mmap_threshold_kb: int = 128
    # checkpoints (SAVE / BGSAVE): "" = <dir>.checkpoints; keep this store's newest N (0 = all)
    checkpoint_dir: str = ""
    checkpoint_keep: int = 5
    # HTTP API (ledis/http, docs/http.md): off while http_bind is empty
    http_bind: str = ""
    http_port: int = 11181
    http_max_body: int = 16 * 1024 * 1024
    http_tls: bool = False  # HTTPS with the tls_* certificate, key and client-cert rules
    # replication (ledis/replication, docs/replication.md)
    replicaof: str = ""  # "host port" to start as a replica
    masterauth: str = ""
    replica_read_only: bool = True
    replica_serve_stale_data: bool = True
    replica_priority: int = 100
    min_replica_acks: int = 0  # semi-sync: replicas that must ack a write before its reply
    semi_sync_timeout_ms: int = 1000  # then the master degrades to async (INFO counts it)
    # write log: "auto" = from the first replica on (kept on after, across restarts),
    # "always" = from the start (docs/replication.md)
    repl_log: str = "auto"
    repl_log_keep: int = 1_000_000  # write-log records kept for incremental resync
    repl_log_max_mb: int = 0  # also trim the write log past this size (0 = no limit)
    repl_log_retention_s: int = 0  # and records older than this (0 = no limit)
    # scripting
    lua_time_limit_ms: int = 5000
    lua_max_memory_mb: int = 256
    trigger_max_depth: int = 8  # keyspace triggers fired by triggers' writes, levels deep
    # stdlib/ libraries (FUNCTION) loaded at startup: "lock,queue", a YAML list, or "all"
    functions_autoload: str = ""
    # logging
    loglevel: str = "notice"  # debug | verbose | notice | warning
    logfile: str = ""
    # anything else Redis has (CONFIG GET/SET of stored-only parameters)
    extra: dict[str, str] = field(default_factory=dict)

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "appendfsync": ("always", "everysec", "no"),
        "compression": ("none", "lz4", "zstd", "snappy"),
        "backend": ("rocksdb", "memory"),
        "compression_bottommost": ("", "none", "lz4", "zstd", "snappy"),
        "loglevel": ("debug", "verbose", "notice", "warning"),
        "repl_log": ("auto", "always"),
        "tls_auth_clients": ("no", "yes", "optional"),
    }
    # Inclusive (low, high) of every integer option; an integer option missing here is a bug
    # (tests/test_startup_errors.py checks). Bounds follow Redis where it has the parameter.
    RANGES: ClassVar[dict[str, tuple[int, int]]] = {
        # 0 = a free port chosen by the OS (the log and CONFIG GET port show which)
        "port": (0, 65535),
        "http_port": (0, 65535),
        "tls_port": (0, 65535),  # 0 = no TLS port
        "maxclients": (1, 4294967295),
        "timeout": (0, INT_MAX),
        "tcp_keepalive": (0, INT_MAX),
        "proto_max_bulk_len": (1024 * 1024, 2**63 - 1),
        "client_query_buffer_limit": (1024 * 1024, 2**63 - 1),  # Redis's LONG_MAX
        "reply_chunk_entries": (0, INT_MAX),
        # the db number is one byte of every stored key (ledis/storage/layout.py)
        "databases": (1, 256),
        "block_cache_mb": (0, 1024 * 1024),
        "cache_entries": (0, 2**63 - 1),  # 0 = no read cache
        "write_buffer_mb": (1, 1024),
        "malloc_trim_s": (0, INT_MAX),  # 0 = never
        "malloc_mmap_threshold_kb": (0, 32 * 1024),  # glibc's ceiling: HEAP_MAX_SIZE / 2
        "checkpoint_keep": (0, INT_MAX),  # 0 = keep all
        "http_max_body": (1, 2**63 - 1),
        "replica_priority": (0, INT_MAX),
        "min_replica_acks": (0, INT_MAX),
        "semi_sync_timeout_ms": (0, INT_MAX),
        "repl_log_keep": (1, 2**63 - 1),
        "repl_log_max_mb": (0, 2**63 - 1),
        "repl_log_retention_s": (0, 2**63 - 1),
        "lua_time_limit_ms": (0, 2**63 - 1),
        "lua_max_memory_mb": (1, 1024 * 1024),
        "trigger_max_depth": (1, 1000),
    }

    @property
    def master_address(self) -> tuple[str, int] | None:
        """``replicaof`` as (host, port), None for a master (:meth:`set` checked its shape)."""
        words = self.replicaof.split()
        return (words[0], int(words[1])) if len(words) == 2 else None

    # Redis parameters without a field of their own (``extra``: the YAML file's ``redis:``
    # section and CONFIG SET, both validated) are read through these, typed, with Redis's
    # default from ``ledis/data/redis_config.json``: no reader repeats a default.
    def redis_text(self, name: str) -> str:
        """A stored Redis parameter as text, or Redis's default."""
        value = self.extra.get(name)
        return value if value is not None else redis_spec()[name]["default"]

    def redis_int(self, name: str) -> int:
        """An int or memory parameter (``64mb`` -> 67108864); an unreadable value (an old
        file) reads as Redis's default."""
        for text in (self.redis_text(name), redis_spec()[name]["default"]):
            number = memtoull(text) if text else None  # "-1" is no memory value: int()
            if number is None:
                try:
                    number = int(text)
                except ValueError:
                    continue
            return number
        raise ValueError(f"{name} is not a number parameter")

    def redis_bool(self, name: str) -> bool:
        """A yes/no parameter."""
        return self.redis_text(name).lower() == "yes"

    def set(self, name: str, value: Any, where: str = "") -> None:
        """Set one option with type checking; ``where`` names it in errors."""
        fields = {f.name: f for f in dataclasses.fields(self) if f.name != "extra"}
        if name not in fields:
            raise ConfigError(f"unknown option '{where or name}'")
        current = getattr(self, name)
        try:
            if isinstance(current, bool):
                value = _to_bool(value)
            elif isinstance(current, dict):
                value = _rename_map(value)
            elif isinstance(current, int):
                if isinstance(value, (bool, float)) or value is None:
                    raise ValueError("expected an integer")  # YAML yes/1.5/~ are not ints
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise ValueError("expected an integer") from None
                low, high = self.RANGES[name]
                if not low <= value <= high:
                    raise ValueError(f"must be between {low} and {high}")
            else:
                value = _redis_text(value)  # YAML's yes/no as written (tls_auth_clients)
                if name == "replicaof":
                    _check_replicaof(value)
                elif name in ("bind", "dir") and not value.strip():
                    raise ValueError("must not be empty")
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad value for '{where or name}': {value!r} ({exc})") from None
        choices = self.CHOICES.get(name)
        if choices and value not in choices:
            raise ConfigError(
                f"bad value for '{where or name}': {value!r} (one of {', '.join(choices)})"
            )
        setattr(self, name, value)

    def load_yaml(self, path: str) -> None:
        """Apply a YAML file. Every failure (missing, unreadable, bad syntax, bad option) is a
        ConfigError whose ``source`` is ``path`` and whose message is one line."""
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read the file: {_os_reason(exc)}", path) from None
        except UnicodeDecodeError:
            raise ConfigError("cannot read the file: not UTF-8 text", path) from None
        except yaml.YAMLError as exc:
            raise ConfigError(_yaml_reason(exc), path) from None
        if not isinstance(data, dict):
            raise ConfigError("the top level must be a mapping (section: or option: value)",
                              path)
        try:
            self._apply(data, "")
        except ConfigError as exc:
            exc.source = path
            raise
        self.extra["__file__"] = path

    def _apply(self, data: dict, prefix: str) -> None:
        for key, value in data.items():
            path = f"{prefix}{key}"
            if str(key).replace("-", "_") == "rename_command":  # a mapping, not a section
                self.set("rename_command", value, path)
            elif key == "redis" and not prefix and isinstance(value, dict):
                # stored-only Redis parameters (CONFIG GET/SET, see docs/config.md), read as
                # CONFIG SET reads them: Redis too refuses to start on a bad value
                spec = redis_spec()
                for name, item in value.items():
                    entry = spec.get(str(name))
                    if entry is None:
                        raise ConfigError(f"unknown Redis parameter 'redis.{name}'")
                    canonical = ALIASES.get(str(name), str(name))
                    try:
                        parsed = parse_value(canonical, entry, _redis_text(item),
                                             self.redis_text(canonical))
                    except ParamError as exc:
                        raise ConfigError(f"redis.{name}: {exc}") from None
                    self.extra[canonical] = str(parsed)
            elif isinstance(value, dict):
                self._apply(value, path + ".")
            else:
                name = str(key).replace("-", "_")
                if prefix == "functions." and name == "autoload":
                    name = "functions_autoload"  # functions: {autoload: [lock, queue]}
                self.set(name, value, path)


def _check_replicaof(value: str) -> None:
    """``replicaof`` is empty or "host port", as Redis writes it (not "host:port")."""
    if not value.strip():
        return
    parts = value.split()
    if len(parts) != 2 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 65535:
        raise ValueError('expected "host port" with a port 1-65535, e.g. "10.0.0.5 6380"')


def _rename_map(value: Any) -> dict[str, str]:
    """``rename_command``: a mapping of command name -> new name ("" or ~ = removed)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError('expected a mapping such as {FLUSHALL: "", CONFIG: "ADMIN-CONFIG"}')
    out: dict[str, str] = {}
    for old, new in value.items():
        old_text, new_text = _redis_text(old).strip(), _redis_text(new).strip()
        if not old_text or any(c.isspace() for c in old_text + new_text):
            raise ValueError("command names are single words")
        out[old_text] = new_text
    return out


def _os_reason(exc: OSError) -> str:
    """``[Errno 2] No such file or directory: 'x'`` -> ``no such file or directory``."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]


def _yaml_reason(exc: Exception) -> str:
    """PyYAML's multi-line message as one line: what is wrong and where."""
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or "bad YAML"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
    return f"YAML syntax error{where}: {' '.join(str(problem).split())}"


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("yes", "true", "1", "on"):
        return True
    if text in ("no", "false", "0", "off"):
        return False
    raise ValueError("expected yes/no")


def _redis_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


# --- CONFIG GET / SET at run time ------------------------------------------------------------
#
# Every Redis 7.0 parameter exists (ledis/data/redis_config.json: default and type, read off a
# stock redis-server). A few map onto ledis and take effect (BACKED below); the rest are
# stored-only: CONFIG SET validates them like Redis and CONFIG GET returns them, nothing else
# reads them. docs/config.md lists which is which.

_SPEC: dict[str, dict] | None = None

# Alias -> the name whose value it shares (Redis 7.0 renamed these).
ALIASES = {
    "lua-time-limit": "busy-reply-threshold",
    "hash-max-ziplist-entries": "hash-max-listpack-entries",
    "hash-max-ziplist-value": "hash-max-listpack-value",
    "zset-max-ziplist-entries": "zset-max-listpack-entries",
    "zset-max-ziplist-value": "zset-max-listpack-value",
    "list-max-ziplist-size": "list-max-listpack-size",
}

def redis_spec() -> dict[str, dict]:
    """name -> {"default": str, "type": int|bool|memory|enum|string|immutable|protected}."""
    global _SPEC
    if _SPEC is None:
        import json
        import os

        path = os.path.join(os.path.dirname(__file__), "data", "redis_config.json")
        with open(path, encoding="utf-8") as fh:
            _SPEC = json.load(fh)
        for alias, target in ALIASES.items():
            if alias not in _SPEC and target in _SPEC:
                _SPEC[alias] = _SPEC[target]
        for name in list(_SPEC):
            twin = name.replace("slaveof", "replicaof").replace("slave", "replica")
            if twin != name and twin in _SPEC:
                ALIASES[name] = twin
    return _SPEC


# Parameters with a real effect: name -> Config attribute. Their values live in the Config
# object (so the rest of ledis reads plain attributes); bounds are Redis's, as for every
# parameter (redis_config.json).
BACKED = {
    "maxclients": "maxclients",
    "timeout": "timeout",
    "requirepass": "requirepass",
    "appendfsync": "appendfsync",
    "busy-reply-threshold": "lua_time_limit_ms",
    "proto-max-bulk-len": "proto_max_bulk_len",
    "client-query-buffer-limit": "client_query_buffer_limit",
    "tcp-keepalive": "tcp_keepalive",
    "loglevel": "loglevel",
    "replica-priority": "replica_priority",
    "protected-mode": "protected_mode",
    "replica-read-only": "replica_read_only",
    "replica-serve-stale-data": "replica_serve_stale_data",
}
# TLS options ledis uses: the listeners' context, built at start and again when CONFIG SET
# changes one of ``TLS_APPLIED`` while TLS is in use (``Server.apply_tls``).
TLS_REPORTED = {
    "tls-port": "tls_port", "tls-cert-file": "tls_cert_file", "tls-key-file": "tls_key_file",
    "tls-ca-cert-file": "tls_ca_cert_file", "tls-auth-clients": "tls_auth_clients",
    "tls-protocols": "tls_protocols",
}
# Redis reconfigures TLS (applyTlsCfg, applyTLSPort) when these change; so does ledis, for
# the ones it does not use too (the update fails as Redis's would, without usable files).
TLS_APPLIED = {
    *TLS_REPORTED, "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
    "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-dir", "tls-ciphers",
    "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching",
    "tls-session-cache-size", "tls-session-cache-timeout", "tls-replication", "tls-cluster",
}
# Reported from the running server, not settable at run time.
READ_ONLY = {"port", "bind", "dir", "databases", "logfile"}


class RuntimeConfig:
    """CONFIG GET / SET / REWRITE over ``Config`` plus the stored-only Redis parameters."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.config: Config = core.config
        self.spec = redis_spec()

    def canonical(self, name: str) -> str:
        return ALIASES.get(name, name)

    def get(self, name: str) -> str:
        name = self.canonical(name)
        config = self.config
        if name in BACKED:
            return _redis_text(getattr(config, BACKED[name]))
        if name in TLS_REPORTED:
            return str(getattr(config, TLS_REPORTED[name]))
        if name == "port":
            server = getattr(self.core, "server", None)
            return str(server.port if server is not None else config.port)
        if name == "bind":
            return config.bind
        if name == "dir":
            import os

            return os.path.abspath(config.dir)
        if name == "databases":
            return str(config.databases)
        if name == "logfile":
            return config.logfile
        if name in config.extra:
            shown = SHOWN.get(name)
            return config.extra[name] if shown is None else shown(config.extra[name])
        return self.spec[name]["default"]

    def match(self, patterns: list[bytes]) -> list[tuple[str, str]]:
        """CONFIG GET: every parameter matching any pattern, each once."""
        from ledis import glob

        seen: set[str] = set()
        out = []
        for pattern in patterns:
            text = pattern.decode("utf-8", "replace").lower()
            if not any(c in text for c in "*?[\\"):
                names = [text] if text in self.spec else []
            else:
                test = glob.compile(text.encode())
                names = [n for n in self.spec if test(n.encode())]
            for name in names:
                if name not in seen:
                    seen.add(name)
                    out.append((name, self.get(name)))
        return out

    def validate(self, name: str, value: str) -> object:
        """Parse ``value`` for ``name``; returns the value to store or raises ParamError."""
        spec = self.spec[name]
        kind = spec["type"]
        canonical = self.canonical(name)
        if canonical in READ_ONLY or kind == "immutable":
            raise ParamError("protected" if canonical == "dir" else "immutable")
        if kind == "protected":
            raise ParamError("protected")
        return parse_value(canonical, spec, value, self.get(canonical))

    def set_many(self, pairs: list[tuple[str, str]]) -> None:
        """CONFIG SET: validate every pair first, then apply all (all or nothing)."""
        parsed: list[tuple[str, Any]] = []
        seen: set[str] = set()
        for name, value in pairs:
            if name not in self.spec:
                raise UnknownParam(name)
            canonical = self.canonical(name)
            if name in seen:  # by name, as Redis: an alias and its target may both appear
                raise ParamError(f"{name}\0duplicate parameter")
            seen.add(name)
            try:
                parsed.append((canonical, self.validate(name, value)))
            except ParamError as exc:
                raise ParamError(f"{name}\0{exc}") from None
        before = {name: self.get(name) for name, _value in parsed}
        for name, value in parsed:
            self._apply(name, value)
        changed = [name for name, _value in parsed if self.get(name) != before[name]]
        tls = [name for name in changed if name in TLS_APPLIED]
        server = getattr(self.core, "server", None)
        if tls and server is not None:
            extra = self.config.extra
            try:
                server.apply_tls("tls-port" in changed, "yes" in (
                    extra.get("tls-replication"), extra.get("tls-cluster")))
            except ApplyError as exc:  # Redis restores every value of the call
                for name, _value in parsed:
                    self._apply(name, self.validate(name, before[name]))
                failed = "tls-port" if str(exc) == errors.TLS_LISTEN_FAILED else tls[0]
                raise ParamError(f"{failed}\0{exc}") from None

    def _apply(self, name: str, value: object) -> None:
        config = self.config
        if name in TLS_REPORTED:
            attr = TLS_REPORTED[name]
            setattr(config, attr, int(str(value)) if attr == "tls_port" else str(value))
            return
        if name in BACKED:
            attr = BACKED[name]
            if isinstance(getattr(config, attr), bool):
                value = value == "yes"  # validate() gave "yes" / "no"
            setattr(config, attr, value)
            if name == "appendfsync":
                self.core.engine.set_fsync(str(value))
            elif name == "requirepass":
                self.core.acl.set_requirepass(str(value))  # the default user's password
            elif name == "loglevel":
                logging.getLogger().setLevel(LOG_LEVELS.get(str(value), logging.INFO))
            elif name in ("replica-read-only", "replica-serve-stale-data"):
                self.core.replication.apply_replica_config()
            return
        config.extra[name] = str(value)
        if name == "slowlog-log-slower-than":
            self.core.slowlog.configure(threshold_us=int(value))  # type: ignore[call-overload]
        elif name == "slowlog-max-len":
            self.core.slowlog.configure(max_len=int(value))  # type: ignore[call-overload]
        elif name == "latency-monitor-threshold":
            ms = int(value)  # type: ignore[call-overload]
            self.core.latency_threshold = ms * 1000.0 if ms > 0 else float("inf")
        self.core.refresh_hot_flags()

    def rewrite(self) -> None:
        """CONFIG REWRITE: write the changed values back into the YAML file.

        The file is edited, not regenerated, as Redis does with redis.conf: ruamel.yaml's
        round-trip mode keeps its comments, key order, sections, quoting and every key CONFIG
        does not know (``compression``, ``functions: {autoload: ...}`` ...). A value that
        differs from the file is replaced where it sits (top level or in a section); options
        changed from their default but absent from the file are appended at the top level;
        stored-only Redis parameters go under ``redis:``. Values equal to what the file says
        are left untouched, so an unchanged server rewrites an identical file."""
        import os

        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        path = self.config.extra.get("__file__")
        if not path:
            raise ParamError("no file")
        yaml_rt = YAML()  # round-trip
        yaml_rt.preserve_quotes = True
        yaml_rt.width = 4096  # never fold a long value onto a second line
        with open(path, encoding="utf-8") as fh:
            try:
                data = yaml_rt.load(fh)
            except YAMLError as exc:  # the file was edited since start: say so, write nothing
                raise OSError(f"cannot parse {path}: {exc}") from None
        if data is None:
            from ruamel.yaml.comments import CommentedMap

            data = CommentedMap()
        if not isinstance(data, dict):
            raise OSError(f"{path}: the top level is not a mapping")
        repl = getattr(self.core, "replication", None)
        if repl is not None:  # the current master, as Redis rewrites "replicaof"
            link = repl.link
            self.config.replicaof = f"{link.host} {link.port}" if link is not None else ""
            if self.config.replicaof or _has_key(data, "replicaof"):
                _put_key(data, "replicaof", self.config.replicaof)
        for attr in (*BACKED.values(), *TLS_REPORTED.values()):
            value = getattr(self.config, attr)
            if value != getattr(Config, attr, value) or _has_key(data, attr):
                _put_key(data, attr, value)
        stored = {k: v for k, v in self.config.extra.items() if k != "__file__"}
        if stored:
            section = data.get("redis")
            if not isinstance(section, dict):
                from ruamel.yaml.comments import CommentedMap

                section = data["redis"] = CommentedMap()
            for name, text in stored.items():
                if name not in section or _redis_text(section[name]) != text:
                    section[name] = _same_style(section.get(name), text)
        tmp = path + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                yaml_rt.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)  # an operator's 0600 stays 0600
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


class UnknownParam(ValueError):
    pass


def _has_key(data: dict, attr: str) -> bool:
    if attr in data:
        return True
    return any(isinstance(v, dict) and attr in v for v in data.values())


def _put_key(data: dict, attr: str, value: object) -> None:
    """Set ``attr`` where the file already has it (top level or in a section), else append it
    at the top level. A value the file already holds (``77`` vs ``"77"``) is left as written,
    and a replaced string keeps its quoting; the comments around the key are attached to the
    key, so they stay."""
    holder = data
    if attr not in data:
        holder = next((s for s in data.values() if isinstance(s, dict) and attr in s), data)
    if attr in holder and _redis_text(holder[attr]) == _redis_text(value):
        return
    holder[attr] = _same_style(holder.get(attr), value)


def _same_style(old: object, value: object) -> object:
    """``value`` as a string in the quoting style of ``old`` when that was a quoted string.

    ruamel.yaml writes YAML 1.2, where ``on`` or ``0o17`` are plain strings, but the file is
    read at start by PyYAML (YAML 1.1: ``on`` is true): a string PyYAML would not read back as
    the same text is quoted."""
    from ruamel.yaml.scalarstring import ScalarString, SingleQuotedScalarString

    if not isinstance(value, str):
        return value
    if isinstance(old, ScalarString):
        return type(old)(value)
    try:
        same = _redis_text(yaml.safe_load(value)) == value
    except yaml.YAMLError:
        same = False
    return value if same else SingleQuotedScalarString(value)
