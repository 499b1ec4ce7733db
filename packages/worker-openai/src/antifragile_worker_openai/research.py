"""`perform_simple_research`: answer a question from the organisation's own passages, with citations.

Citations may only name passages the request supplied (see attribution.py), and each quote must occur
in the passage it cites (modulo case and whitespace); any other citation is dropped and counted, so an
answer claims no more support than was checked. OpenAI's hosted web search joins only when the request
asks, OPENAI_WEB_SEARCH allows it, and the endpoint is OpenAI itself (no OPENAI_BASE_URL): compatible
servers do not host tools; `web_search_used` reports a search the response shows, not the permission.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

from antifragile_core.contracts.base import Model
from antifragile_core.contracts.collective import (
    PERFORM_SIMPLE_RESEARCH,
    Citation,
    Passage,
    Quote,
    ResearchAnswer,
    ResearchRequest,
)
from antifragile_core.contracts.documents import MAX_LIST_ITEMS, Confidence, Paragraph
from antifragile_core.errors import NOT_FOUND, bad_input
from antifragile_core.settings import Settings
from pydantic import Field, create_model

from .attribution import id_choice, known
from .budget import model_used
from .resources import Resources
from .untrusted import material, with_data_rule

INSTRUCTIONS = with_data_rule(
    "You answer questions for an organisation's strategy team from passages of its own documents. "
    "Use only what the passages say; never invent facts, names or numbers. Cite every passage your "
    "answer relies on by its id, quoting the exact words you used. When the passages do not answer the "
    "question, say so plainly and give a low confidence. Answer in the question's language."
)
WEB_INSTRUCTIONS = " You may also search the web; name the web sources you use inside the answer."


def draft_type(passages: list[Passage]) -> type[Model]:
    """The output schema for these passages: citations can only name their ids."""
    cited = create_model(
        "CitedPassage",
        __base__=Model,
        passage_id=(id_choice([p.passage_id for p in passages]), Field(description="The passage's id.")),
        quote=(Quote, Field(description="The exact words of the passage the answer relies on.")),
    )
    return create_model(
        "ResearchDraft",
        __base__=Model,
        answer=(Paragraph, Field(description="The answer, a few sentences.")),
        citations=(
            list[cited],  # type: ignore[valid-type]
            Field(max_length=MAX_LIST_ITEMS, description="The passages the answer relies on."),
        ),
        confidence=(Confidence, Field(description="How well the passages support the answer, 0 to 1.")),
    )


def prompt_for(request: ResearchRequest) -> str:
    listing = "\n\n".join(
        material(f"passage {p.passage_id}", f"File name: {p.filename}\n\n{p.text}") for p in request.passages
    )
    return f"Question: {request.question}\n\nPassages:\n\n{listing or '(none)'}"


class CheckedCitations(NamedTuple):
    citations: list[Citation]
    dropped: int
    """Citations of passages the model was not given."""
    unverified: int
    """Citations of a supplied passage whose quote is not in it."""


def citations_from(draft_citations: list[Any], passages: list[Passage]) -> CheckedCitations:
    """The verified citations (each passage once, its first verified quote) and what was dropped."""
    by_id = {p.passage_id: p for p in passages}
    verified = [
        c for c in draft_citations if c.passage_id in by_id and quoted_in(c.quote, by_id[c.passage_id].text)
    ]
    quotes = {c.passage_id: c.quote for c in reversed(verified)}
    citations = [
        Citation(passage_id=i, document_id=by_id[i].document_id, filename=by_id[i].filename, quote=quotes[i])
        for i in known([c.passage_id for c in verified], set(by_id))
    ]
    dropped = sum(1 for c in draft_citations if c.passage_id not in by_id)
    return CheckedCitations(citations, dropped, len(draft_citations) - dropped - len(verified))


def quoted_in(quote: str, text: str) -> bool:
    """Whether `quote` occurs in `text`, ignoring case and runs of whitespace."""
    words = " ".join(quote.casefold().split())
    return bool(words) and words in " ".join(text.casefold().split())


def web_search_allowed(settings: Settings, request: ResearchRequest) -> bool:
    return request.web_search and settings.openai_web_search and settings.openai_base_url is None


def activities(res: Resources) -> list[Callable[..., Any]]:
    @PERFORM_SIMPLE_RESEARCH.implement
    async def perform_simple_research(request: ResearchRequest) -> ResearchAnswer:
        res.llm.require_configured()
        web = web_search_allowed(res.settings, request)
        if not request.passages and not web:
            raise bad_input(NOT_FOUND, "No passages to answer from, and web search is not enabled.")
        model = request.model or res.settings.model_for("research")
        draft, usage = await res.llm.run(
            name="research",
            instructions=INSTRUCTIONS + (WEB_INSTRUCTIONS if web else ""),
            prompt=prompt_for(request),
            output_type=draft_type(request.passages),
            model=model,
            web_search=web,
        )
        checked = citations_from(draft.citations, request.passages)  # type: ignore[attr-defined]
        return ResearchAnswer(
            answer=draft.answer,  # type: ignore[attr-defined]
            citations=checked.citations,
            dropped_citations=checked.dropped,
            unverified_citations=checked.unverified,
            grounded=bool(checked.citations),
            web_search_used=usage.web_searches > 0,
            confidence=draft.confidence,  # type: ignore[attr-defined]
            model=model_used(model),
            usage=usage,
        )

    return [perform_simple_research]
