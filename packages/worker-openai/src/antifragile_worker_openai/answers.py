"""Reading a model's answer as its output type, and saying precisely what was wrong with it.

Nothing here quotes the answer: it may repeat the document, and error messages land in workflow
history and logs.
"""

import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_POLICY_WORDS = re.compile(r"polic|safe|harm|violat|inappropriate|guideline|not allowed|cannot comply", re.I)


class InvalidAnswer(ValueError):
    """The answer is not the output type; the message names the first failing field."""


def parse_answer(text: str, output_type: type[T]) -> T:
    """The answer as `output_type`; JSON inside ```json fences or after a sentence is read as well,
    since the content is right and asking again would pay for the same answer."""
    try:
        return output_type.model_validate_json(_json_part(text))
    except ValidationError as err:
        raise InvalidAnswer(describe(err)) from None


def _json_part(text: str) -> str:
    if fenced := _FENCE.search(text):
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def describe(err: ValidationError) -> str:
    """The first failing field and why, without its value; how many more failed."""
    errors = err.errors(include_url=False, include_input=False, include_context=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return (f"field {where!r}: {first['msg']}" if where else first["msg"]) + more


def refusal_reason(refusal: str) -> str:
    """A summary of a refusal that quotes none of it."""
    kind = "citing a content policy" if _POLICY_WORDS.search(refusal) else "without a stated policy"
    return f"{kind}, {len(refusal)} characters"
