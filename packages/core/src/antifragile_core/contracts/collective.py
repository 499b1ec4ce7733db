"""Collective-intelligence contracts on openai-queue: research, catchball, wisdom synthesis.

Identifiers the model must cite (passage ids, contribution ids) are given to it in the request and checked
against it in the activity: an answer can only point at material it was actually shown.
"""

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from ..queues import OPENAI_QUEUE
from .base import ActivityContract, Model, OrgId
from .documents import (
    LLM_RETRY,
    MAX_LIST_ITEMS,
    Confidence,
    Label,
    Paragraph,
    Ref,
    Sentence,
    Sentences,
    Statement,
)
from .usage import TokenUsage

ShortText = Annotated[str, Field(min_length=1, max_length=20_000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Quote = Annotated[str, Field(min_length=1, max_length=500)]
"""Words quoted from a passage: a sentence or two."""
ContributionId = Annotated[str, Field(min_length=1, max_length=64)]
MAX_BACKING_IDS = 50
"""Contribution ids behind one point: enough to show a majority of a large round, and bounded."""
BackingIds = Annotated[list[ContributionId], Field(max_length=MAX_BACKING_IDS)]


class Passage(Model):
    """A retrieved piece of an organisation's document; `passage_id` is what citations point at."""

    passage_id: str = Field(min_length=1)
    document_id: str
    filename: str
    text: str = Field(min_length=1, max_length=8_000)
    rank: float = 0.0


class ResearchRequest(Model):
    organization_id: OrgId
    question: ShortText
    passages: list[Passage] = Field(default_factory=list, max_length=50)
    model: str | None = None
    web_search: bool = False


class Citation(Model):
    """A passage the answer relies on, with the words quoted from it."""

    passage_id: Ref
    document_id: Ref
    filename: Ref
    quote: Quote


class ResearchAnswer(Model):
    """An answer and the citations that were checked: each names a supplied passage and its quote occurs
    in that passage (modulo case and whitespace); `grounded` is false when none survived."""

    answer: Paragraph
    citations: Annotated[list[Citation], Field(max_length=MAX_LIST_ITEMS)]
    dropped_citations: int = Field(ge=0, description="citations of passages the model was not given")
    unverified_citations: int = Field(
        default=0, ge=0, description="citations dropped because their quote is not in the cited passage"
    )
    grounded: bool = Field(default=True, description="at least one citation was verified")
    web_search_used: bool = Field(default=False, description="the model's response shows a web search")
    confidence: Confidence = Field(description="self-reported by the model, not measured")
    model: Ref
    usage: TokenUsage


class CatchballTurn(Model):
    """One participant's word on the statement; `ai_drafted` when the participant did not answer, and
    then `agreed` is false: only people agree."""

    participant: Name
    level: Name
    feedback: str = Field(max_length=20_000)
    agreed: bool
    ai_drafted: bool = False


class CatchballRequest(Model):
    """A statement and one participant's feedback; with no feedback the model drafts it for them."""

    organization_id: OrgId
    statement: ShortText
    level: Name
    participant: Name
    feedback: str | None = Field(default=None, min_length=1, max_length=20_000)
    history: list[CatchballTurn] = Field(default_factory=list, max_length=100)
    model: str | None = None


class Change(Model):
    what: Sentence
    why: Sentence


class Alignment(Model):
    score: Confidence
    agreed: bool
    assessment: Paragraph


class CatchballRefinement(Model):
    refined_statement: Statement
    changes: Annotated[list[Change], Field(max_length=MAX_LIST_ITEMS)]
    open_questions: Sentences
    alignment: Alignment
    drafted_feedback: Statement | None = Field(
        default=None, description="set when the feedback was AI-drafted"
    )
    model: Ref
    usage: TokenUsage


class Contribution(Model):
    contribution_id: ContributionId
    author: Name
    text: ShortText


class WisdomRequest(Model):
    organization_id: OrgId
    question: ShortText
    contributions: list[Contribution] = Field(min_length=1, max_length=500)
    model: str | None = None


class AttributedPoint(Model):
    point: Sentence
    contribution_ids: BackingIds


class Theme(Model):
    title: Label
    summary: Paragraph
    contribution_ids: BackingIds


class WisdomSynthesis(Model):
    themes: Annotated[list[Theme], Field(max_length=MAX_LIST_ITEMS)]
    consensus: Annotated[list[AttributedPoint], Field(max_length=MAX_LIST_ITEMS)]
    dissent: Annotated[list[AttributedPoint], Field(max_length=MAX_LIST_ITEMS)]
    recommendation: AttributedPoint
    confidence: Confidence = Field(description="self-reported by the model, not measured")
    model: Ref
    usage: TokenUsage


PERFORM_SIMPLE_RESEARCH = ActivityContract(
    name="perform_simple_research",
    queue=OPENAI_QUEUE,
    input=ResearchRequest,
    output=ResearchAnswer,
    start_to_close=timedelta(minutes=10),
    retry=LLM_RETRY,
)
RUN_CATCHBALL = ActivityContract(
    name="run_catchball",
    queue=OPENAI_QUEUE,
    input=CatchballRequest,
    output=CatchballRefinement,
    start_to_close=timedelta(minutes=10),
    retry=LLM_RETRY,
)
SYNTHESIZE_WISDOM = ActivityContract(
    name="synthesize_wisdom",
    queue=OPENAI_QUEUE,
    input=WisdomRequest,
    output=WisdomSynthesis,
    start_to_close=timedelta(minutes=10),
    retry=LLM_RETRY,
)
