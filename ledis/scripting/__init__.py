"""Lua scripting: the EVAL engine (``runtime.Scripting``, reachable as ``core.scripting``).

The sandbox and the Lua half of the bridge live in ``lua/prelude.lua``; see
docs/scripting.md for the design and the known differences from Redis 7.0.
"""
