"""Nothing a model writes can push a result or the workflow history past a fixed size: every answer
schema sent to a model is bounded, `max_tokens` never exceeds the most a valid answer can need, and every
openai-queue result stays far below Temporal's 2 MB payload limit whatever the model writes."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from antifragile_core.contracts import collective, documents
from antifragile_core.contracts.collective import Passage
from antifragile_core.settings import Settings
from antifragile_testing.openai_server import ServerScope
from antifragile_worker_openai import catchball, research, wisdom
from antifragile_worker_openai.documents import AnalysisAnswer, SummaryAnswer
from antifragile_worker_openai.schema import UnboundedAnswer, answer_ceiling, strict_schema
from pydantic import BaseModel

RESULT_LIMIT_BYTES = 512 * 1024
"""A quarter of Temporal's 2 MB payload limit (escaping counted at its worst, every character doubled)."""
PASSAGES = [Passage(passage_id=f"d{i}#0", document_id=f"d{i}", filename="f", text="t") for i in range(50)]
IDS = [f"c{i:063d}" for i in range(500)]  # as many and as long as contribution ids may be
ANSWERS: list[type[BaseModel]] = [
    SummaryAnswer,
    AnalysisAnswer,
    research.draft_type(PASSAGES),
    catchball.Refinement,
    catchball.DraftedRefinement,
    wisdom.synthesis_type(IDS),
]
RESULTS = [
    documents.GENERATE_DOCUMENT_SUMMARY.output,
    documents.ANALYZE_DOCUMENT_CONTENT.output,
    collective.PERFORM_SIMPLE_RESEARCH.output,
    collective.RUN_CATCHBALL.output,
    collective.SYNTHESIZE_WISDOM.output,
]


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.__name__)
def test_every_answer_a_model_writes_is_bounded(answer: type[BaseModel]) -> None:
    assert answer_ceiling(strict_schema(answer)) < RESULT_LIMIT_BYTES


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.__name__)
def test_every_result_stays_below_a_fixed_size(result: type[BaseModel]) -> None:
    schema = result.model_json_schema()
    usage = schema["$defs"].pop("TokenUsage", None)  # counts, not text: bounded by their digits
    if usage is not None:
        schema["properties"]["usage"] = {"type": "integer"}
    for name in ("document_id", "model"):
        schema["properties"].get(name, {}).setdefault(
            "maxLength", 200
        )  # copied from the request, not written
    assert answer_ceiling(schema) < RESULT_LIMIT_BYTES


def test_an_unbounded_field_is_caught() -> None:
    class Loose(BaseModel):
        text: str

    with pytest.raises(UnboundedAnswer):
        answer_ceiling(strict_schema(Loose))


async def test_max_tokens_never_exceeds_what_a_valid_answer_can_need(
    openai_worker: Callable[..., AbstractAsyncContextManager[Any]],
    endpoint_settings: Callable[..., Settings],
    openai_server: ServerScope,
    org_id: str,
) -> None:
    settings = endpoint_settings(llm_max_output_tokens=500_000, openai_context_tokens=1_000_000)
    async with openai_worker(settings) as worker:
        await worker.run("analyze_document_content", await worker.stage(org_id, "Depots in Riga."))

    [request] = openai_server.requests
    assert request.body["max_tokens"] == answer_ceiling(strict_schema(AnalysisAnswer)) < 500_000
