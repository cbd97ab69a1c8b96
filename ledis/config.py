"""Configuration: defaults, the YAML file, command-line overrides.

One YAML file (``--config ledis.yaml``); every option has a default here. Sections group the
options (``storage:``, ``scripting:`` ...); each option maps to one attribute of
:class:`Config`. Command-line flags override the file. Unknown keys and bad values are rejected
at startup with the key path in the message.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import yaml


class ConfigError(ValueError):
    pass


@dataclass
class Config:
    # network
    bind: str = "127.0.0.1"
    port: int = 6380
    maxclients: int = 10000
    timeout: int = 0  # idle seconds before a client is closed; 0 = never
    tcp_keepalive: int = 300
    proto_max_bulk_len: int = 512 * 1024 * 1024
    requirepass: str = ""
    databases: int = 16
    # storage
    dir: str = "./data"
    appendfsync: str = "everysec"  # always | everysec | no
    compression: str = "lz4"  # none | lz4 | zstd | snappy
    block_cache_mb: int = 64
    cache_entries: int = 200_000
    # scripting
    lua_time_limit_ms: int = 5000
    lua_max_memory_mb: int = 256
    # logging
    loglevel: str = "notice"  # debug | verbose | notice | warning
    logfile: str = ""
    # anything else Redis has (CONFIG GET/SET of stored-only parameters)
    extra: dict[str, str] = field(default_factory=dict)

    CHOICES = {
        "appendfsync": ("always", "everysec", "no"),
        "compression": ("none", "lz4", "zstd", "snappy"),
        "loglevel": ("debug", "verbose", "notice", "warning"),
    }

    def set(self, name: str, value: Any, where: str = "") -> None:
        """Set one option with type checking; ``where`` names it in errors."""
        fields = {f.name: f for f in dataclasses.fields(self) if f.name != "extra"}
        if name not in fields:
            raise ConfigError(f"unknown option '{where or name}'")
        current = getattr(self, name)
        try:
            if isinstance(current, bool):
                value = _to_bool(value)
            elif isinstance(current, int):
                value = int(value)
                if value < 0:
                    raise ValueError("must not be negative")
            else:
                value = "" if value is None else str(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad value for '{where or name}': {value!r} ({exc})") from None
        choices = self.CHOICES.get(name)
        if choices and value not in choices:
            raise ConfigError(
                f"bad value for '{where or name}': {value!r} (one of {', '.join(choices)})"
            )
        setattr(self, name, value)

    def load_yaml(self, path: str) -> None:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        self._apply(data, "")

    def _apply(self, data: dict, prefix: str) -> None:
        for key, value in data.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                self._apply(value, path + ".")
            else:
                self.set(str(key).replace("-", "_"), value, path)


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("yes", "true", "1", "on"):
        return True
    if text in ("no", "false", "0", "off"):
        return False
    raise ValueError("expected yes/no")
