"""Checks an answer of the app against the response schema of the OpenAPI document."""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

import orjson
from openapi_schema_validator import OAS30Validator


@functools.cache
def document() -> dict:
    return orjson.loads((resources.files("leaderboard.http") / "openapi.json").read_bytes())


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in document()["paths"]:
        pattern = re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(template))
        out.append((re.compile(pattern + "$"), template))
    return out


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        parts = node["$ref"].removeprefix("#/").split("/")
        node = functools.reduce(lambda n, key: n[key], parts, document())
    return node


def check_answer(method: str, path: str, status: int, body: Any) -> None:
    """Fails when the document does not describe this status, or the body breaks its schema."""
    template = next((t for pattern, t in _templates() if pattern.match(path.split("?")[0])), "")
    operation = document()["paths"].get(template, {}).get(method.lower())
    if operation is None:
        assert status in (404, 405), f"{method} {path} is not in the document"
        OAS30Validator({"$ref": "#/components/schemas/Error", **document()}).validate(body)
        return
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template} is not documented to answer {status}"
    response = _resolve(responses[str(status)])
    content = response.get("content", {}).get("application/json")
    if content is None:
        assert body is None, f"{method} {template} {status} documents no body"
        return
    schema = {**content["schema"], "components": document()["components"]}
    OAS30Validator(schema).validate(body)
