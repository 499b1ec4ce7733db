"""Summary and analysis through a real worker-openai on the dev server, against the local
OpenAI-compatible server."""

import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from antifragile_core.contracts.documents import (
    ANALYZE_DOCUMENT_CONTENT,
    GENERATE_DOCUMENT_SUMMARY,
    DocumentAnalysis,
    DocumentSummary,
    DocumentText,
)
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.errors import (
    EMPTY_DOCUMENT,
    INVALID_INPUT,
    LLM_NOT_CONFIGURED,
    LLM_REQUEST_REJECTED,
    NOT_FOUND,
)
from antifragile_core.queues import OPENAI_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from antifragile_core.storage.keys import org_key
from antifragile_testing.openai_server import RecordedRequest, ServerScope
from antifragile_worker_openai.chunking import CHARS_PER_TOKEN, input_budget
from antifragile_worker_openai.documents import SUMMARY
from antifragile_worker_openai.llm import LLM
from antifragile_worker_openai.main import create_worker
from antifragile_worker_openai.resources import Resources
from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

CONTRACTS = {c.name: c for c in (GENERATE_DOCUMENT_SUMMARY, ANALYZE_DOCUMENT_CONTENT)}

STRATEGY = (
    "Northwind Logistics plans to expand its cold-chain network into the Baltic region by 2027. "
    "Rising energy prices and a shortage of certified drivers threaten margins, while new EU "
    "sustainability rules favour operators with electric fleets. The board expects partnerships "
    "with regional grocers to secure demand and asks for a staged investment plan."
)

LONG_TEXT = "\n\n".join(f"Section {i}. {STRATEGY}" for i in range(16))
"""About 6,000 characters: four parts at a 1,000-token context with 300 tokens kept for the answer."""


class ActivityCall(BaseModel):
    activity: str
    task_queue: str
    doc: DocumentText


@workflow.defn(sandboxed=False)
class CallActivity:
    """Runs one openai-queue activity with its contract's timeouts and retry policy."""

    @workflow.run
    async def run(self, call: ActivityCall) -> dict[str, Any]:
        contract = CONTRACTS[call.activity]
        result = await workflow.execute_activity(
            contract.name,
            call.doc,
            task_queue=call.task_queue,
            result_type=contract.output,
            start_to_close_timeout=contract.start_to_close,
            heartbeat_timeout=contract.heartbeat,
            retry_policy=contract.retry,
        )
        return result.model_dump(mode="json")


@asynccontextmanager
async def openai_worker(client: Client, settings: Settings) -> AsyncIterator[Resources]:
    """worker-openai as `worker-openai` builds it, plus this test's workflow on its own queue."""
    async with open_store(settings) as store:
        res = Resources(settings=settings, store=store, llm=LLM.from_settings(settings))
        caller = Worker(client, task_queue=settings.task_queue_prefix + "tests", workflows=[CallActivity])
        async with create_worker(client, res), caller:
            yield res


async def stage_text(res: Resources, org_id: str, text: str) -> DocumentText:
    document_id = uuid.uuid4().hex
    key = org_key(org_id, "documents", document_id, "text.txt")
    await res.store.put(key, text.encode())
    return DocumentText(organization_id=org_id, document_id=document_id, filename="plan.md", text_key=key)


async def run_activity(client: Client, settings: Settings, contract_name: str, doc: DocumentText) -> Any:
    prefix = settings.task_queue_prefix
    result = await client.execute_workflow(
        CallActivity.run,
        ActivityCall(activity=contract_name, task_queue=prefix + OPENAI_QUEUE, doc=doc),
        id=f"call-{uuid.uuid4().hex}",
        task_queue=prefix + "tests",
        execution_timeout=timedelta(minutes=2),
    )
    return CONTRACTS[contract_name].output.model_validate(result)


def usage_of(requests: list[RecordedRequest]) -> TokenUsage:
    """What the server reported spending on these requests."""
    answered = [r.response["usage"] for r in requests if r.response]
    return TokenUsage(
        requests=len(answered),
        input_tokens=sum(u["prompt_tokens"] for u in answered),
        output_tokens=sum(u["completion_tokens"] for u in answered),
    )


async def failure_of(
    client: Client, settings: Settings, contract_name: str, doc: DocumentText
) -> ApplicationError:
    with pytest.raises(WorkflowFailureError) as failed:
        await run_activity(client, settings, contract_name, doc)
    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    assert isinstance(activity_error.cause, ApplicationError)
    return activity_error.cause


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
    """A 1,000-token context with 300 kept for the answer: LONG_TEXT is read in four parts."""
    return make_settings(
        openai_base_url=openai_server.base_url, openai_context_tokens=1_000, llm_max_output_tokens=300
    )


async def test_summary_and_analysis_are_the_models_structured_answers(
    temporal_client: Client, llm_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    async with openai_worker(temporal_client, llm_settings) as res:
        doc = await stage_text(res, org_id, STRATEGY)
        summary = await run_activity(temporal_client, llm_settings, "generate_document_summary", doc)
        analysis = await run_activity(temporal_client, llm_settings, "analyze_document_content", doc)

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
    temporal_client: Client, small_context_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    settings = small_context_settings
    async with openai_worker(temporal_client, settings) as res:
        doc = await stage_text(res, org_id, LONG_TEXT)
        summary = await run_activity(temporal_client, settings, "generate_document_summary", doc)
        budget_chars = input_budget(res.llm, SUMMARY) * CHARS_PER_TOKEN

    requests = openai_server.completions
    assert summary.chunks > 1
    reads, merge = requests[:-1], requests[-1]
    assert len(reads) == summary.chunks
    assert all(len(r.text_of("user").split("\n", 2)[2]) <= budget_chars for r in reads)
    assert merge.text_of("system") == SUMMARY.merge_instructions
    merge_input = merge.text_of("user")
    for read in reads:
        assert json.dumps(answer_of(read), separators=(",", ":")) in merge_input
    assert answer_of(merge)["summary"] == summary.summary
    assert summary.usage == usage_of(openai_server.completions)
    assert summary.usage.requests == summary.chunks + 1


async def test_a_retry_resumes_after_the_parts_already_read(
    temporal_client: Client, small_context_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    settings = small_context_settings
    openai_server.script_faults(503, after=2, retry_after=0.2)
    async with openai_worker(temporal_client, settings) as res:
        doc = await stage_text(res, org_id, LONG_TEXT)
        summary = await run_activity(temporal_client, settings, "generate_document_summary", doc)

    assert summary.chunks > 3
    assert [r.status for r in openai_server.requests[:3]] == [200, 200, 503]
    assert len(openai_server.completions) == summary.chunks + 1  # parts 1 and 2 were not read again


async def test_rate_limit_waits_for_retry_after_then_succeeds(
    temporal_client: Client, llm_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    # Longer than the contract's first backoff (2 s): only Retry-After explains a wait this long.
    openai_server.script_faults(429, retry_after=3)
    async with openai_worker(temporal_client, llm_settings) as res:
        doc = await stage_text(res, org_id, STRATEGY)
        summary = await run_activity(temporal_client, llm_settings, "generate_document_summary", doc)

    limited, answered = openai_server.requests
    assert (limited.status, answered.status) == (429, 200)
    assert answered.received_at - limited.received_at >= 3.0
    assert summary.summary and summary.usage == usage_of(openai_server.completions)


async def test_an_answer_that_does_not_fit_the_schema_is_asked_again(
    temporal_client: Client, llm_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    openai_server.script_faults(200)
    async with openai_worker(temporal_client, llm_settings) as res:
        doc = await stage_text(res, org_id, STRATEGY)
        analysis = await run_activity(temporal_client, llm_settings, "analyze_document_content", doc)

    cut_off, answered = openai_server.completions
    with pytest.raises(json.JSONDecodeError):
        answer_of(cut_off)
    assert answer_of(answered)["topics"] == analysis.topics
    assert analysis.usage == usage_of([answered])  # the cut-off attempt failed; this one answered


async def test_bad_request_fails_at_once_without_retry(
    temporal_client: Client, llm_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    openai_server.script_faults(400, message="response_format is not supported")
    async with openai_worker(temporal_client, llm_settings) as res:
        doc = await stage_text(res, org_id, STRATEGY)
        error = await failure_of(temporal_client, llm_settings, "analyze_document_content", doc)

    assert error.type == LLM_REQUEST_REJECTED and error.non_retryable
    assert "400" in error.message and "response_format is not supported" in error.message
    assert len(openai_server.requests) == 1


async def test_no_llm_configured_fails_plainly(
    temporal_client: Client, make_settings: Callable[..., Settings], org_id: str
) -> None:
    settings = make_settings()
    async with openai_worker(temporal_client, settings) as res:
        doc = await stage_text(res, org_id, STRATEGY)
        error = await failure_of(temporal_client, settings, "generate_document_summary", doc)

    assert error.type == LLM_NOT_CONFIGURED and error.non_retryable
    assert "OPENAI_API_KEY" in error.message and "OPENAI_BASE_URL" in error.message


async def test_foreign_missing_or_empty_text_is_rejected_before_any_model_call(
    temporal_client: Client, llm_settings: Settings, openai_server: ServerScope, org_id: str
) -> None:
    async with openai_worker(temporal_client, llm_settings) as res:
        doc = await stage_text(res, "other-org", STRATEGY)
        foreign = doc.model_copy(update={"organization_id": org_id})
        missing = doc.model_copy(update={"text_key": org_key("other-org", "documents", "nothing.txt")})
        outside = await failure_of(temporal_client, llm_settings, "generate_document_summary", foreign)
        absent = await failure_of(temporal_client, llm_settings, "generate_document_summary", missing)
        blank = await stage_text(res, org_id, " \n\t\n")
        empty = await failure_of(temporal_client, llm_settings, "analyze_document_content", blank)

    assert (outside.type, outside.non_retryable) == (INVALID_INPUT, True)
    assert (absent.type, absent.non_retryable) == (NOT_FOUND, True)
    assert (empty.type, empty.non_retryable) == (EMPTY_DOCUMENT, True)
    assert openai_server.requests == []
