"""The output schema a model is asked to fill, and the most it can write while filling it validly.

Strict structured outputs want every property required and no extra ones; pydantic's schema of an
answer model (extra="forbid", no defaults) is already close, and is completed here. Every string and
list of an answer carries a bound (see antifragile_core.contracts.documents), so a valid answer has a
largest size: `answer_ceiling` is that size in characters, and a token holds at least one character of
JSON in practice, so it is also the most output tokens a valid answer can need.
"""

import json
from typing import Any

from pydantic import BaseModel

NUMBER_CHARS = 24
"""The longest JSON number an answer writes (a float's repr)."""


def strict_schema(output_type: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of `output_type` in the strict form structured outputs require."""
    schema = output_type.model_json_schema()
    _strict(schema)
    return schema


def _strict(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node:
            node["additionalProperties"] = False
            node["required"] = list(node["properties"])
        node.pop("default", None)
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)


class UnboundedAnswer(ValueError):
    """An answer schema with a string or list of no maximum length."""


def answer_ceiling(schema: dict[str, Any], root: dict[str, Any] | None = None) -> int:
    """The most characters a compact JSON answer valid against `schema` can have."""
    root = schema if root is None else root
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return answer_ceiling(node, root)
    if "const" in schema or "enum" in schema:
        return max(len(json.dumps(v)) for v in schema.get("enum", [schema.get("const")]))
    if options := schema.get("anyOf") or schema.get("oneOf"):
        return max(answer_ceiling(option, root) for option in options)
    kind = schema.get("type")
    if kind == "string":
        if "maxLength" not in schema:
            raise UnboundedAnswer(f"a string without maxLength: {schema.get('title', schema)}")
        return schema["maxLength"] * 2 + 2  # each character at most two when escaped (\n, \")
    if kind == "array":
        if "maxItems" not in schema:
            raise UnboundedAnswer(f"a list without maxItems: {schema.get('title', schema)}")
        return schema["maxItems"] * (answer_ceiling(schema.get("items", {}), root) + 1) + 2
    if kind == "object":
        properties = schema.get("properties", {})
        return 2 + sum(len(name) + 4 + answer_ceiling(sub, root) for name, sub in properties.items())
    if kind in ("number", "integer"):
        return NUMBER_CHARS
    return 5  # true, false, null
