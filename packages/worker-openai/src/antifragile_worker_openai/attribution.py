"""Keeping a model's references honest: it may only point at ids it was shown.

The output schema lists the allowed ids as an enum, so an endpoint that enforces structured outputs
cannot invent one; the answer is still filtered, because not every OpenAI-compatible server enforces
the schema.
"""

from typing import Any, Literal


def id_choice(ids: list[str]) -> Any:
    """A type admitting exactly `ids` (a JSON-schema enum); plain `str` when there are none."""
    return Literal[tuple(ids)] if ids else str


def known(cited: list[str], allowed: set[str]) -> list[str]:
    """`cited` without unknown ids and repeats, in order."""
    return list(dict.fromkeys(i for i in cited if i in allowed))
