"""Each contract is implemented by exactly the worker of its queue, with the contract's types, and
every activity a worker registers has a contract. The 19 seed names are a public interface."""

import asyncio
import typing
from collections.abc import Callable
from typing import Any

from antifragile_core.contracts import ALL_CONTRACTS, SEED_ACTIVITIES
from antifragile_core.queues import DEFAULT_QUEUE, ML_QUEUE, OPENAI_QUEUE
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from antifragile_worker_default import db
from antifragile_worker_default.main import all_activities as default_activities
from antifragile_worker_default.resources import Resources as DefaultResources
from antifragile_worker_ml.activities import activities as ml_activities
from antifragile_worker_ml.sync_store import SyncStore
from antifragile_worker_openai.llm import LLM
from antifragile_worker_openai.main import all_activities as openai_activities
from antifragile_worker_openai.resources import Resources as OpenAIResources
from temporalio.client import Client

SEED_NAMES = {
    "process_document_upload", "validate_training_readiness", "schedule_competitor_scan",
    "send_scheduled_notification", "health_check_external_services", "cleanup_old_data",
    "submit_model_training_job", "check_training_job_status", "get_organization_training_history",
    "cancel_training_job", "collect_model_feedback", "start_model_improvement",
    "train_organizational_model", "test_qwen_model", "generate_document_summary",
    "analyze_document_content", "perform_simple_research", "run_catchball", "synthesize_wisdom",
}  # fmt: skip


def test_the_seed_activities_keep_their_names() -> None:
    assert {c.name for c in SEED_ACTIVITIES} == SEED_NAMES
    assert len(SEED_ACTIVITIES) == 19


async def registered(make_settings: Callable[..., Settings], client: Client) -> dict[str, list[Any]]:
    """The activity functions each worker registers, built as its entry point builds them."""
    settings = make_settings()
    pool = await db.connect(settings.postgres_dsn)
    try:
        async with open_store(settings) as store:
            return {
                DEFAULT_QUEUE: default_activities(DefaultResources(settings, pool, store, client)),
                OPENAI_QUEUE: openai_activities(
                    OpenAIResources(settings, store, LLM.from_settings(settings))
                ),
                ML_QUEUE: ml_activities(SyncStore(store, asyncio.get_running_loop()), settings),
            }
    finally:
        await pool.close()


async def test_every_contract_is_implemented_by_its_queues_worker(
    make_settings: Callable[..., Settings], temporal_client: Client
) -> None:
    contracts = {c.name: c for c in ALL_CONTRACTS}
    assert len(contracts) == len(ALL_CONTRACTS), "two contracts share a name"
    implemented: dict[str, str] = {}
    for queue, functions in (await registered(make_settings, temporal_client)).items():
        for fn in functions:
            name = fn.__temporal_activity_definition.name
            assert name in contracts, f"{queue} registers {name}, which has no contract"
            assert name not in implemented, f"{name} is implemented on {implemented[name]} and {queue}"
            implemented[name] = queue
            contract = contracts[name]
            assert contract.queue == queue, f"{name} belongs on {contract.queue}, not {queue}"
            hints = typing.get_type_hints(fn)
            (arg_type,) = [t for param, t in hints.items() if param != "return"]
            assert arg_type is contract.input, f"{name} takes {arg_type}, contract says {contract.input}"
            assert hints["return"] is contract.output, f"{name} returns {hints['return']}"
    assert set(implemented) == set(contracts), f"unimplemented: {set(contracts) - set(implemented)}"
