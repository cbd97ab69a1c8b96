"""Command docs come from one place: Redis's COMMAND DOCS (``ledis/data``) for the commands Redis
has, the ``@command`` declaration for ledis's own (``ledis/commands/registry.py``), and
the two agree."""

from __future__ import annotations

import pytest

import ledis.commands  # noqa: F401  (registers every command)
from ledis.commands.registry import REGISTRY, Command, command, reference_doc

DOC_FIELDS = ("summary", "since", "group", "complexity")


def _every_command() -> list[Command]:
    out = []
    for cmd in REGISTRY.all():
        out.append(cmd)
        out.extend(cmd.subcommands.values())
    return out


def test_declarations_agree_with_redis_docs():
    checked = 0
    disagree = []
    for cmd in _every_command():
        ref = reference_doc(cmd.name)
        if ref is None:
            continue
        checked += 1
        for name in DOC_FIELDS:
            if getattr(cmd, name) != ref.get(name, ""):
                disagree.append((cmd.name, name, getattr(cmd, name), ref.get(name)))
    assert checked > 300  # the whole Redis command table, subcommands included
    assert disagree == []


def test_ledis_only_commands_document_themselves():
    # containers (LEDIS.FUNCTION) have no handler and no doc of their own
    own = [c for c in _every_command() if reference_doc(c.name) is None and c.handler]
    assert own, "ledis has commands of its own (HCLEAR, XSCAN ...)"
    assert [c.name for c in own if not c.summary] == []


def test_left_out_docs_are_filled_from_redis(monkeypatch):
    # A throwaway registry entry named like a Redis command takes Redis's texts.
    monkeypatch.setattr(REGISTRY, "commands", dict(REGISTRY.commands))
    del REGISTRY.commands[b"lpos"]
    command("lpos", arity=-3, flags="readonly", keys=(1, 1, 1), group="list")(lambda c, a: 0)
    cmd = REGISTRY.lookup(b"lpos")
    assert cmd.summary == reference_doc("lpos")["summary"]
    assert cmd.since == "6.0.6"
    assert cmd.complexity == reference_doc("lpos")["complexity"]


def _command_docs(client, name: str) -> dict:
    """COMMAND DOCS <name> as a dict, read off the connection (redis-py's reply callback for
    COMMAND expects COMMAND INFO's shape)."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command("COMMAND", "DOCS", name)
        reply = conn.read_response()
    finally:
        client.connection_pool.release(conn)
    return _as_dict(reply)


def _as_dict(reply) -> dict:
    if isinstance(reply, list):
        reply = dict(zip(reply[::2], reply[1::2], strict=True))
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in reply.items()}


@pytest.mark.parametrize("name", ["save", "bgsave", "multi", "watch", "cluster|shards"])
def test_docs_served_over_the_wire(r, name):
    parent, _, sub = name.partition("|")
    doc = _as_dict(_command_docs(r, parent)[parent])
    if sub:
        doc = _as_dict(_as_dict(doc["subcommands"])[name])
    assert doc["summary"] == reference_doc(name)["summary"].encode()
    assert doc["since"] == reference_doc(name)["since"].encode()
