"""Hostile-input tests (issue #21, docs/reliability.md "Hostile input"): protocol, HTTP and
Lua fuzzing against real servers, each failure printing the seed that reproduces it."""
