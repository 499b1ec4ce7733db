"""Collective-intelligence contracts on openai-queue: research, catchball, wisdom synthesis."""

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from ..queues import OPENAI_QUEUE
from .base import ActivityContract, Model, OrgId
from .documents import LLM_RETRY, Confidence
from .usage import TokenUsage

ShortText = Annotated[str, Field(min_length=1, max_length=20_000)]


class Passage(Model):
    """A retrieved piece of an organisation's document."""

    document_id: str
    filename: str
    text: str


class ResearchRequest(Model):
    organization_id: OrgId
    question: ShortText
    passages: list[Passage] = Field(default_factory=list)
    model: str | None = None
    web_search: bool = False


class Citation(Model):
    document_id: str
    filename: str
    quote: str


class ResearchAnswer(Model):
    answer: str
    citations: list[Citation]
    confidence: Confidence
    model: str
    usage: TokenUsage


class CatchballTurn(Model):
    participant: str
    level: str
    feedback: str
    ai_drafted: bool = False


class CatchballRequest(Model):
    organization_id: OrgId
    statement: ShortText
    level: str = Field(min_length=1)
    participant: str = Field(min_length=1)
    feedback: ShortText
    history: list[CatchballTurn] = Field(default_factory=list)
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
    model: str
    usage: TokenUsage


class Contribution(Model):
    contribution_id: str = Field(min_length=1)
    author: str
    text: ShortText


class WisdomRequest(Model):
    organization_id: OrgId
    question: ShortText
    contributions: list[Contribution] = Field(min_length=1)
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
    heartbeat=timedelta(minutes=2),
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
