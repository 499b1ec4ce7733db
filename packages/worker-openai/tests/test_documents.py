"""Summary and analysis through a real worker-openai on the dev server, against the local
OpenAI-compatible server."""

import json
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from antifragile_core.contracts.documents import DocumentAnalysis, DocumentSummary
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.errors import (
    EMPTY_DOCUMENT,
    INVALID_INPUT,
    LLM_NOT_CONFIGURED,
    LLM_REQUEST_REJECTED,
    NOT_FOUND,
)
from antifragile_core.settings import Settings
from antifragile_core.storage.keys import org_key
from antifragile_testing.openai_server import RecordedRequest, ServerScope
from antifragile_worker_openai.chunking import input_budget
from antifragile_worker_openai.documents import SUMMARY
from antifragile_worker_openai.tokens import CHARS_PER_TOKEN

STRATEGY = (
    "Northwind Logistics plans to expand its cold-chain network into the Baltic region by 2027. "
    "Rising energy prices and a shortage of certified drivers threaten margins, while new EU "
    "sustainability rules favour operators with electric fleets. The board expects partnerships "
    "with regional grocers to secure demand and asks for a staged investment plan."
)

LONG_TEXT = "\n\n".join(f"Section {i}. {STRATEGY}" for i in range(16))
"""About 6,000 characters: four parts at a 1,300-token context with 300 tokens kept for the answer."""


UsageOf = Callable[[list[RecordedRequest]], TokenUsage]
StartWorker = Callable[..., AbstractAsyncContextManager[Any]]


def answer_of(request: RecordedRequest) -> Any:
    assert request.response is not None
    return json.loads(request.response["choices"][0]["message"]["content"])


def words(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]{3,}", text))


@pytest.fixture
def llm_settings(make_settings: Callable[..., Settings], openai_server: ServerScope) -> Settings:
    return make_settings(openai_base_url=openai_server.base_url, openai_model="local-schema-model")


@pytest.fixture
def small_context_settings(make_settings: Callable[..., Settings], openai_server: ServerScope) -> Settings:
    """A 1,300-token context with 300 kept for the answer: LONG_TEXT is read in four parts."""
    return make_settings(
        openai_base_url=openai_server.base_url, openai_context_tokens=1_300, llm_max_output_tokens=300
    )


async def test_summary_and_analysis_are_the_models_structured_answers(
    openai_worker: StartWorker,
    llm_settings: Settings,
    openai_server: ServerScope,
    org_id: str,
    usage_of: UsageOf,
) -> None:
    async with openai_worker(llm_settings) as worker:
        doc = await worker.stage(org_id, STRATEGY)
        summary = await worker.run("generate_document_summary", doc)
        analysis = await worker.run("analyze_document_content", doc)

    assert isinstance(summary, DocumentSummary) and isinstance(analysis, DocumentAnalysis)
    assert summary.document_id == analysis.document_id == doc.document_id
    assert summary.model == analysis.model == "local-schema-model"
    assert summary.chunks == analysis.chunks == 1
    first, second = openai_server.completions
    assert STRATEGY in first.text_of("user")
    # The local server answers with the words it was sent: the results are its answers, not ours.
    sent = words(first.text_of("user"))
    assert summary.summary and words(summary.summary) <= sent
    assert summary.key_points and all(words(p) <= sent for p in summary.key_points)
    for field in (analysis.topics, analysis.risks, analysis.opportunities):
        assert field and all(words(item) <= sent for item in field)
    assert first.body["model"] == "local-schema-model"
    assert first.body["response_format"]["json_schema"]["strict"] is True
    assert answer_of(first) == summary.model_dump(include={"summary", "key_points"})
    assert answer_of(second) == analysis.model_dump(
        include={"topics", "risks", "opportunities", "sentiment", "confidence"}
    )
    assert summary.usage + analysis.usage == usage_of(openai_server.completions)
    assert summary.usage.requests == analysis.usage.requests == 1


async def test_long_document_is_read_in_parts_and_merged_by_the_model(
    openai_worker: StartWorker,
    small_context_settings: Settings,
    openai_server: ServerScope,
    org_id: str,
    usage_of: UsageOf,
) -> None:
    settings = small_context_settings
    async with openai_worker(settings) as worker:
        doc = await worker.stage(org_id, LONG_TEXT)
        summary = await worker.run("generate_document_summary", doc)
        budget_chars = input_budget(worker.res.llm, SUMMARY) * CHARS_PER_TOKEN

    requests = openai_server.completions
    assert summary.chunks > 1
    reads, merge = requests[:-1], requests[-1]
    assert len(reads) == summary.chunks
    parts = [r.text_of("user").split("\n", 3)[3].removesuffix("\n</material>") for r in reads]
    assert all(len(part) <= budget_chars for part in parts)
    assert merge.text_of("system") == SUMMARY.merge_instructions
    merge_input = merge.text_of("user")
    for read in reads:
        assert json.dumps(answer_of(read), separators=(",", ":")) in merge_input
    assert answer_of(merge)["summary"] == summary.summary
    assert summary.usage == usage_of(openai_server.completions)
    assert summary.usage.requests == summary.chunks + 1


async def test_a_retry_resumes_after_the_parts_already_read(
    openai_worker: StartWorker, small_context_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    settings = small_context_settings
    openai_server.script_faults(503, after=2, retry_after=0.2)
    async with openai_worker(settings) as worker:
        doc = await worker.stage(org_id, LONG_TEXT)
        summary = await worker.run("generate_document_summary", doc)

    assert summary.chunks > 3
    assert [r.status for r in openai_server.requests[:3]] == [200, 200, 503]
    assert len(openai_server.completions) == summary.chunks + 1  # parts 1 and 2 were not read again


async def test_rate_limit_waits_for_retry_after_then_succeeds(
    openai_worker: StartWorker,
    llm_settings: Settings,
    openai_server: ServerScope,
    org_id: str,
    usage_of: UsageOf,
) -> None:
    # Longer than the contract's first backoff (2 s): only Retry-After explains a wait this long.
    openai_server.script_faults(429, retry_after=3)
    async with openai_worker(llm_settings) as worker:
        doc = await worker.stage(org_id, STRATEGY)
        summary = await worker.run("generate_document_summary", doc)

    limited, answered = openai_server.requests
    assert (limited.status, answered.status) == (429, 200)
    assert answered.received_at - limited.received_at >= 3.0
    assert summary.summary and summary.usage == usage_of(openai_server.completions)


async def test_an_answer_that_does_not_fit_the_schema_is_asked_again(
    openai_worker: StartWorker,
    llm_settings: Settings,
    openai_server: ServerScope,
    org_id: str,
    usage_of: UsageOf,
) -> None:
    openai_server.script_faults(200)
    async with openai_worker(llm_settings) as worker:
        doc = await worker.stage(org_id, STRATEGY)
        analysis = await worker.run("analyze_document_content", doc)

    cut_off, answered = openai_server.completions
    with pytest.raises(json.JSONDecodeError):
        answer_of(cut_off)
    assert answer_of(answered)["topics"] == analysis.topics
    assert len(openai_server.requests) == 2  # asked again in the same attempt, not retried by Temporal
    assert analysis.usage == usage_of([cut_off, answered])  # the unusable answer was spent too


async def test_bad_request_fails_at_once_without_retry(
    openai_worker: StartWorker, llm_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    openai_server.script_faults(400, message="response_format is not supported")
    async with openai_worker(llm_settings) as worker:
        doc = await worker.stage(org_id, STRATEGY)
        error = await worker.failure("analyze_document_content", doc)

    assert error.type == LLM_REQUEST_REJECTED and error.non_retryable
    assert "400" in error.message and "response_format is not supported" in error.message
    assert len(openai_server.requests) == 1


async def test_no_llm_configured_fails_plainly(
    openai_worker: StartWorker, make_settings: Callable[..., Settings], org_id: str
) -> None:
    settings = make_settings()
    async with openai_worker(settings) as worker:
        doc = await worker.stage(org_id, STRATEGY)
        error = await worker.failure("generate_document_summary", doc)

    assert error.type == LLM_NOT_CONFIGURED and error.non_retryable
    assert "OPENAI_API_KEY" in error.message and "OPENAI_BASE_URL" in error.message


async def test_foreign_missing_or_empty_text_is_rejected_before_any_model_call(
    openai_worker: StartWorker, llm_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    async with openai_worker(llm_settings) as worker:
        doc = await worker.stage("other-org", STRATEGY)
        foreign = doc.model_copy(update={"organization_id": org_id})
        missing = doc.model_copy(update={"text_key": org_key("other-org", "documents", "nothing.txt")})
        outside = await worker.failure("generate_document_summary", foreign)
        absent = await worker.failure("generate_document_summary", missing)
        blank = await worker.stage(org_id, " \n\t\n")
        empty = await worker.failure("analyze_document_content", blank)

    assert (outside.type, outside.non_retryable) == (INVALID_INPUT, True)
    assert (absent.type, absent.non_retryable) == (NOT_FOUND, True)
    assert (empty.type, empty.non_retryable) == (EMPTY_DOCUMENT, True)
    assert openai_server.requests == []
