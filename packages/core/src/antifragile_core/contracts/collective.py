"""Collective-intelligence contracts on openai-queue: research, catchball, wisdom synthesis.

Identifiers the model must cite (passage ids, contribution ids) are given to it in the request and checked
against it in the activity: an answer can only point at material it was actually shown.
"""

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from ..queues import OPENAI_QUEUE
from .base import ActivityContract, Model, OrgId
from .documents import LLM_RETRY, Confidence
from .usage import TokenUsage

ShortText = Annotated[str, Field(min_length=1, max_length=20_000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


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

    passage_id: str
    document_id: str
    filename: str
    quote: str


class ResearchAnswer(Model):
    answer: str
    citations: list[Citation]
    dropped_citations: int = Field(ge=0, description="citations of passages the model was not given")
    web_search_used: bool = False
    confidence: Confidence
    model: str
    usage: TokenUsage


class CatchballTurn(Model):
    """One participant's word on the statement; `ai_drafted` when the participant did not answer, and
    then `agreed` is false: only people agree."""

    participant: Name
    level: Name
    feedback: str
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
    what: str
    why: str


class Alignment(Model):
    score: Confidence
    agreed: bool
    assessment: str


class CatchballRefinement(Model):
    refined_statement: str
    changes: list[Change]
    open_questions: list[str]
    alignment: Alignment
    drafted_feedback: str | None = Field(default=None, description="set when the feedback was AI-drafted")
    model: str
    usage: TokenUsage


class Contribution(Model):
    contribution_id: str = Field(min_length=1, max_length=64)
    author: Name
    text: ShortText


class WisdomRequest(Model):
    organization_id: OrgId
    question: ShortText
    contributions: list[Contribution] = Field(min_length=1, max_length=500)
    model: str | None = None


class AttributedPoint(Model):
    point: str
    contribution_ids: list[str]


class Theme(Model):
    title: str
    summary: str
    contribution_ids: list[str]


class WisdomSynthesis(Model):
    themes: list[Theme]
    consensus: list[AttributedPoint]
    dissent: list[AttributedPoint]
    recommendation: AttributedPoint
    confidence: Confidence
    model: str
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
