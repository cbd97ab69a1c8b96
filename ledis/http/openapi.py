"""The OpenAPI 3.0 description of the HTTP API, served at ``/openapi.json``.

Generated from the command registry, so a new command shows up in the ``command`` enum by
itself. OpenAPI cannot template "any number of path segments", so the GET routes are
described up to three arguments; more arguments are more segments the same way.
"""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}


def _get(summary: str, n_args: int, with_db: bool) -> dict:
    params: list[dict] = [{"$ref": "#/components/parameters/type"},
                          {"$ref": "#/components/parameters/encoding"}]
    if with_db:
        params.append({"$ref": "#/components/parameters/db"})
    params.append({"$ref": "#/components/parameters/command"})
    for i in range(1, n_args + 1):
        params.append({"name": f"arg{i}", "in": "path", "required": True,
                       "description": f"argument {i}, URL-encoded (any byte as %XX)",
                       "schema": {"type": "string"}})
    return {"get": {"summary": summary, "parameters": params,
                    "responses": {"200": {"$ref": "#/components/responses/Reply"},
                                  "400": _ERROR, "401": _ERROR, "404": _ERROR}}}


def _post(summary: str, schema: dict, with_db: bool) -> dict:
    params: list[dict] = [{"$ref": "#/components/parameters/type"},
                          {"$ref": "#/components/parameters/encoding"}]
    if with_db:
        params.append({"$ref": "#/components/parameters/db"})
    return {"post": {
        "summary": summary, "parameters": params,
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": schema},
            "application/msgpack": {"schema": schema}}},
        "responses": {"200": {"$ref": "#/components/responses/Reply"},
                      "400": _ERROR, "401": _ERROR, "404": _ERROR, "413": _ERROR}}}


def openapi_document(core: Any) -> dict:
    from ledis.version import __version__

    names = sorted({name.decode().upper() for name in core.commands})
    arg = {"oneOf": [{"type": "string"}, {"type": "number"},
                     {"type": "object", "required": ["base64"], "additionalProperties": False,
                      "properties": {"base64": {"type": "string", "format": "byte"}}}]}
    command_body = {"oneOf": [
        {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Argument"}},
        {"type": "object", "required": ["command"], "properties": {
            "command": {"type": "array", "minItems": 1,
                        "items": {"$ref": "#/components/schemas/Argument"}}}}]}
    script_body = {"type": "object", "properties": {
        "script": {"type": "string"}, "sha": {"type": "string"},
        "function": {"type": "string"},
        "keys": {"type": "array", "items": {"$ref": "#/components/schemas/Argument"}},
        "args": {"type": "array", "items": {"$ref": "#/components/schemas/Argument"}}}}
    paths: dict[str, Any] = {
        "/health": {"get": {"summary": "Liveness probe (no auth)", "responses": {"200": {
            "description": "the server answers",
            "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/info": {"get": {
            "summary": "INFO as JSON: {section: {field: value}}",
            "parameters": [{"name": "section", "in": "query", "required": False,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "INFO sections", "content": {
                "application/json": {"schema": {"type": "object"}}}}, "401": _ERROR}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {
            "description": "OpenAPI 3.0 document",
            "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/": _post("Run a command given as a JSON array", command_body, False),
        "/{db}": _post("Run a command in database db", command_body, True),
    }
    for name, field in (("EVAL", "script"), ("EVALSHA", "sha"), ("FCALL", "function")):
        summary = f"{name} with '{field}', 'keys' and 'args' fields"
        paths[f"/{name}"] = _post(summary, script_body, False)
        paths[f"/{{db}}/{name}"] = _post(summary + " in database db", script_body, True)
    tail = ""
    for n in range(0, 4):
        paths["/{command}" + tail] = _get(f"Run a command with {n} argument(s)", n, False)
        paths["/{db}/{command}" + tail] = _get(
            f"Run a command with {n} argument(s) in database db", n, True)
        tail += f"/{{arg{n + 1}}}"
    return {
        "openapi": "3.0.3",
        "info": {"title": "ledis HTTP API", "version": __version__,
                 "description": "LedisDB-style HTTP access to ledis: GET /[db]/CMD/args... "
                                "or POST a JSON array; answers {\"CMD\": value}. "
                                "See docs/http.md."},
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "the requirepass password"}},
            "schemas": {
                "Argument": arg,
                "Error": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}}},
            },
            "parameters": {
                "type": {"name": "type", "in": "query", "required": False,
                         "schema": {"type": "string", "enum": ["json", "msgpack"],
                                    "default": "json"}},
                "encoding": {"name": "encoding", "in": "query", "required": False,
                             "description": "base64: every bulk string base64-encoded",
                             "schema": {"type": "string", "enum": ["base64"]}},
                "db": {"name": "db", "in": "path", "required": True,
                       "schema": {"type": "integer", "minimum": 0}},
                "command": {"name": "command", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": names}},
            },
            "responses": {
                "Reply": {"description": "{\"CMD\": reply} (docs/http.md, reply mapping)",
                          "content": {"application/json": {"schema": {"type": "object"}},
                                      "application/msgpack": {"schema": {"type": "object"}}}},
                "Error": {"description": "{\"error\": \"ERR ...\"}",
                          "content": {"application/json": {
                              "schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        },
    }
