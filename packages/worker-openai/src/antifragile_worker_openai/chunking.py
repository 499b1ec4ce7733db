"""Reading a text longer than the model's context: split it by a token budget, read each part, and
merge the partial results with further model calls (map-reduce) until one result is left.

Token counts are estimated (see tokens.py) so no tokenizer has to ship with the worker. The text and the
partial answers reach the model as material (see untrusted.py), never as instructions.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.errors import LLM_NOT_CONFIGURED, bad_input
from pydantic import BaseModel, ValidationError

from .llm import LLM
from .tokens import CHARS_PER_TOKEN, approx_tokens
from .untrusted import material

T = TypeVar("T", bound=BaseModel)

PROMPT_OVERHEAD_TOKENS = 200
"""Room for the material delimiters, the file name (at most 255 characters) and the chat format's own
tokens around instructions and text."""
MIN_INPUT_TOKENS = 200
_SEPARATORS = ("\n\n", "\n", ". ", " ")


def split_text(text: str, max_tokens: int) -> list[str]:
    """Parts of at most `max_tokens` (estimated), cut at paragraph, line, sentence, then word
    boundaries, and only mid-word when a single word is longer than a part."""
    return [part for part in _split(text.strip(), max_tokens * CHARS_PER_TOKEN, _SEPARATORS) if part.strip()]


def _split(text: str, max_chars: int, separators: tuple[str, ...]) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    if not separators:
        return [text[i : i + max_chars] for i in range(0, len(text), max_chars)]
    separator, finer = separators[0], separators[1:]
    pieces = [small for piece in text.split(separator) for small in _split(piece, max_chars, finer)]
    parts: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if len(candidate) <= max_chars:
            current = candidate
        else:
            parts.append(current)
            current = piece
    return [*parts, current] if current else parts


class Checkpoint(BaseModel):
    """Progress carried in heartbeat details, so a retried attempt skips the parts already read."""

    parts: int
    partials: list[dict[str, Any]]
    usage: TokenUsage


@dataclass(frozen=True)
class Reading(Generic[T]):
    """What to ask of each part, and how to merge partial answers; both answer as `output_type`."""

    name: str
    output_type: type[T]
    read_instructions: str
    merge_instructions: str


@dataclass(frozen=True)
class ReadResult(Generic[T]):
    output: T
    usage: TokenUsage
    parts: int


async def read_long_text(
    llm: LLM,
    reading: Reading[T],
    text: str,
    *,
    title: str,
    model: str,
    resume: Checkpoint | None,
    heartbeat: Callable[[Checkpoint], None],
) -> ReadResult[T]:
    """Read `text` in parts that fit the context budget and merge the answers; heartbeat per part."""
    parts = split_text(text, input_budget(llm, reading))
    partials = _resumed(resume, len(parts), reading.output_type)
    usage = resume.usage if resume is not None and partials else TokenUsage()
    checkpoint = Checkpoint(parts=len(parts), partials=[p.model_dump() for p in partials], usage=usage)
    for number, part in enumerate(parts[len(partials) :], start=len(partials) + 1):
        kind = f"document, part {number} of {len(parts)}" if len(parts) > 1 else "document"
        output, spent = await llm.run(
            name=reading.name,
            instructions=reading.read_instructions,
            prompt=material(kind, f"File name: {title}\n\n{part}"),
            output_type=reading.output_type,
            model=model,
        )
        partials.append(output)
        usage += spent
        # Each part is dumped once; a retry resumes from the last checkpoint, also while merging.
        checkpoint = Checkpoint(
            parts=len(parts), partials=[*checkpoint.partials, output.model_dump()], usage=usage
        )
        heartbeat(checkpoint)
    while len(partials) > 1:
        merged: list[T] = []
        for group in _groups(partials, input_budget(llm, reading, merging=True)):
            if len(group) == 1:
                merged.extend(group)
                continue
            listing = "\n".join(p.model_dump_json() for p in group)
            output, spent = await llm.run(
                name=f"{reading.name} (merge)",
                instructions=reading.merge_instructions,
                prompt=f"{len(group)} partial results of consecutive parts of one document, in order:\n\n"
                + material("partial results", f"File name: {title}\n\n{listing}"),
                output_type=reading.output_type,
                model=model,
            )
            merged.append(output)
            usage += spent
            heartbeat(checkpoint)
        partials = merged
    return ReadResult(output=partials[0], usage=usage, parts=len(parts))


def input_budget(llm: LLM, reading: Reading[Any], *, merging: bool = False) -> int:
    """Tokens one request may carry besides its instructions, leaving room for the answer."""
    settings = llm.settings
    instructions = reading.merge_instructions if merging else reading.read_instructions
    budget = (
        settings.openai_context_tokens
        - settings.llm_max_output_tokens
        - approx_tokens(instructions)
        - PROMPT_OVERHEAD_TOKENS
    )
    if budget < MIN_INPUT_TOKENS:
        raise bad_input(
            LLM_NOT_CONFIGURED,
            f"OPENAI_CONTEXT_TOKENS={settings.openai_context_tokens} leaves {budget} tokens for text after "
            f"LLM_MAX_OUTPUT_TOKENS={settings.llm_max_output_tokens} and the instructions; "
            f"raise the context or lower the output limit (at least {MIN_INPUT_TOKENS} tokens of text).",
        )
    return budget


def _groups(partials: list[T], budget: int) -> list[list[T]]:
    """Consecutive partials packed up to `budget`; every group but a lone last one holds at least
    two, so each merge round shrinks the list and the loop ends."""
    groups: list[list[T]] = []
    used = 0
    for partial in partials:
        size = approx_tokens(partial.model_dump_json())
        if groups and (len(groups[-1]) < 2 or used + size <= budget):
            groups[-1].append(partial)
            used += size
        else:
            groups.append([partial])
            used = size
    return groups


def _resumed(resume: Checkpoint | None, parts: int, output_type: type[T]) -> list[T]:
    """The partials of an earlier attempt, if they belong to the same split of the same text."""
    if resume is None or resume.parts != parts or len(resume.partials) > parts:
        return []
    try:
        return [output_type.model_validate(p) for p in resume.partials]
    except ValidationError:
        return []
