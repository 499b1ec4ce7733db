"""`antifragile train`: submit, watch, list and cancel an organisation's training jobs, and give feedback.

The CLI is a Temporal client, not a worker: each command runs one management activity through
ManagementWorkflow, so the job logic lives in one place (the default-queue activities) and the CLI needs
no database or object-store credentials, only Temporal.
"""

import argparse
import asyncio
import uuid
from typing import Any

from antifragile_core.contracts.base import ActivityContract
from antifragile_core.contracts.training import (
    BASE_MODEL_PRESETS,
    CANCEL_TRAINING_JOB,
    CHECK_TRAINING_JOB_STATUS,
    COLLECT_MODEL_FEEDBACK,
    GET_ORGANIZATION_TRAINING_HISTORY,
    START_MODEL_IMPROVEMENT,
    SUBMIT_MODEL_TRAINING_JOB,
    Hyperparameters,
    ImprovementRequest,
    JobStatus,
    ModelFeedback,
    TrainingHistoryQuery,
    TrainingJob,
    TrainingJobRef,
    TrainingJobRequest,
    TrainingProgress,
)
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.runtime import connect
from antifragile_core.settings import Settings
from antifragile_workflows.management import manage
from pydantic import BaseModel
from temporalio.client import Client

from .terminal import LiveLine, bar

ENDED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
WATCH_SECONDS = 2.0


def register(subparsers: Any) -> None:
    root = subparsers.add_parser("train", help="the organisational model's training jobs")
    sub = root.add_subparsers(dest="train_command", required=True)

    submit = sub.add_parser("submit", help="train a LoRA adapter on an organisation's documents")
    _org(submit)
    submit.add_argument(
        "--preset",
        default="smoke",
        help=f"base model: {', '.join(BASE_MODEL_PRESETS)}, a hub id in BASE_MODEL_HUB_IDS or a directory "
        "under MODEL_DIR (default: smoke)",
    )
    submit.add_argument("--request-id", help="makes a retried submit idempotent (default: a new id)")
    submit.add_argument("--prompt", action="append", default=[], help="a prompt to sample at evaluation")
    submit.add_argument("--max-steps", type=int, help="stop training after this many steps")
    submit.add_argument("--watch", action="store_true", help="follow the job until it ends")
    submit.set_defaults(handler=submit_job)

    status = sub.add_parser("status", help="a job's status, progress, metrics and evaluation")
    status.add_argument("job_id")
    _org(status)
    status.add_argument("--watch", action="store_true", help="follow the job until it ends")
    status.set_defaults(handler=job_status)

    history = sub.add_parser("history", help="an organisation's jobs, newest first")
    _org(history)
    history.add_argument("--limit", type=int, default=20)
    history.set_defaults(handler=job_history)

    cancel = sub.add_parser("cancel", help="cancel a job; its training stops at the next step")
    cancel.add_argument("job_id")
    _org(cancel)
    cancel.set_defaults(handler=cancel_job)

    feedback = sub.add_parser("feedback", help="rate an answer of a job's model, or prefer one of two")
    feedback.add_argument("job_id")
    _org(feedback)
    feedback.add_argument("--prompt", required=True)
    feedback.add_argument("--response", help="the answer being rated (with --rating)")
    feedback.add_argument("--rating", type=int, choices=range(1, 6), help="1 (bad) to 5 (good)")
    feedback.add_argument("--preferred", help="the better of two answers (with --rejected)")
    feedback.add_argument("--rejected", help="the worse of two answers (with --preferred)")
    feedback.add_argument("--comment")
    feedback.add_argument("--feedback-id", help="makes a retried feedback idempotent (default: a new id)")
    feedback.set_defaults(handler=give_feedback)

    improve = sub.add_parser("improve", help="train a new job from a job's adapter and its feedback")
    improve.add_argument("job_id")
    _org(improve)
    improve.add_argument("--request-id", help="makes a retried improvement idempotent (default: a new id)")
    improve.add_argument("--watch", action="store_true", help="follow the new job until it ends")
    improve.set_defaults(handler=improve_job)


def _org(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", required=True, dest="organization_id", help="the organisation id")


async def _call(
    client: Client, settings: Settings, contract: ActivityContract[Any, Any], arg: BaseModel
) -> Any:
    """Run one management activity in this settings' fleet."""
    return await manage(client, settings.task_queue_prefix + DEFAULT_QUEUE, contract, arg)


async def submit_job(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    request_id = args.request_id or uuid.uuid4().hex
    handle = await _call(
        client,
        settings,
        SUBMIT_MODEL_TRAINING_JOB,
        TrainingJobRequest(
            organization_id=args.organization_id,
            request_id=request_id,
            base_model=args.preset,
            hyperparameters=Hyperparameters(max_steps=args.max_steps),
            prompts=args.prompt,
        ),
    )
    print(f"job {handle.job_id} {'submitted' if handle.created else 'already exists'}: {handle.status}")
    print(f"  request id {request_id} (submit again with --request-id {request_id} to retry safely)")
    if args.watch:
        return await watch(client, settings, args.organization_id, handle.job_id)
    return 0


async def job_status(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    if args.watch:
        return await watch(client, settings, args.organization_id, args.job_id)
    job = await _call(
        client,
        settings,
        CHECK_TRAINING_JOB_STATUS,
        TrainingJobRef(organization_id=args.organization_id, job_id=args.job_id),
    )
    print_job(job)
    return 0


async def watch(client: Client, settings: Settings, organization_id: str, job_id: str) -> int:
    """Poll the job until it ends, showing its progress."""
    live = LiveLine()
    while True:
        job: TrainingJob = await _call(
            client,
            settings,
            CHECK_TRAINING_JOB_STATUS,
            TrainingJobRef(organization_id=organization_id, job_id=job_id),
        )
        live.show(progress_line(job))
        if job.status in ENDED:
            live.end()
            print_job(job)
            return 0 if job.status == JobStatus.SUCCEEDED else 1
        await asyncio.sleep(WATCH_SECONDS)


def progress_line(job: TrainingJob) -> str:
    """`[#####.....]  42/100  loss 2.31  1,234 tok/s  ETA 3m12s  running`, or just the status."""
    progress = job.progress
    if progress is None or progress.total_steps <= 0:
        return f"{job.job_id}  {job.status}"
    parts = [bar(progress.step, progress.total_steps)]
    parts.extend(_progress_figures(progress))
    parts.append(str(job.status))
    return "  ".join(parts)


def _progress_figures(progress: TrainingProgress) -> list[str]:
    figures = []
    if progress.loss is not None:
        figures.append(f"loss {progress.loss:.3f}")
    if progress.tokens_per_second is not None:
        figures.append(f"{progress.tokens_per_second:,.0f} tok/s")
    if progress.eta_seconds is not None:
        minutes, seconds = divmod(round(progress.eta_seconds), 60)
        figures.append(f"ETA {minutes}m{seconds:02d}s")
    return figures


def print_job(job: TrainingJob) -> None:
    lines = [
        f"job {job.job_id}  {job.status}",
        f"  organisation {job.organization_id}  request {job.request_id}  base model {job.base_model}",
        f"  created {job.created_at:%Y-%m-%d %H:%M:%S}  updated {job.updated_at:%Y-%m-%d %H:%M:%S}",
    ]
    if job.parent_job_id:
        lines.append(f"  improves job {job.parent_job_id}")
    if job.progress is not None:
        lines.append(f"  progress {progress_line(job)}")
    if job.metrics is not None:
        m = job.metrics
        lines.append(
            f"  trained {m.steps} steps, {m.train_tokens:,} tokens, loss {m.first_loss} -> {m.final_loss}, "
            f"{m.tokens_per_second:,.0f} tok/s, {m.duration_seconds:.0f}s"
            + (f", resumed from step {m.resumed_from_step}" if m.resumed_from_step else "")
        )
    if job.adapter_key:
        lines.append(f"  adapter {job.adapter_key}")
    if job.evaluation is not None:
        e = job.evaluation
        lines.append(
            f"  held-out perplexity: base {e.base_perplexity:.2f}, tuned {e.tuned_perplexity:.2f} "
            f"({e.heldout_tokens:,} tokens)"
        )
        for sample in e.samples:
            lines += [
                f"  prompt: {sample.prompt}",
                f"    base:  {_one_line(sample.base)}",
                f"    tuned: {_one_line(sample.tuned)}",
            ]
    if job.error:
        lines.append(f"  error {job.error}")
    print("\n".join(lines))


def _one_line(text: str, limit: int = 160) -> str:
    """Generated text on one line: a tiny model's output can be mostly newlines."""
    flat = " ".join(text.split())
    return (flat[:limit] + " ...") if len(flat) > limit else (flat or "(nothing generated)")


async def job_history(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    history = await _call(
        client,
        settings,
        GET_ORGANIZATION_TRAINING_HISTORY,
        TrainingHistoryQuery(
            organization_id=args.organization_id,
            limit=args.limit,
        ),
    )
    if not history.jobs:
        print(f"no training jobs for {args.organization_id}")
    for job in history.jobs:
        tuned = f"  tuned ppl {job.evaluation.tuned_perplexity:.2f}" if job.evaluation else ""
        print(f"{job.created_at:%Y-%m-%d %H:%M}  {job.job_id}  {job.status:<10}  {job.base_model}{tuned}")
    return 0


async def cancel_job(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    job = await _call(
        client,
        settings,
        CANCEL_TRAINING_JOB,
        TrainingJobRef(
            organization_id=args.organization_id,
            job_id=args.job_id,
        ),
    )
    print_job(job)
    if job.status not in ENDED:
        print("  cancellation requested; the training stops at its next step")
    return 0


async def give_feedback(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    receipt = await _call(
        client,
        settings,
        COLLECT_MODEL_FEEDBACK,
        ModelFeedback(
            organization_id=args.organization_id,
            job_id=args.job_id,
            feedback_id=args.feedback_id or uuid.uuid4().hex,
            prompt=args.prompt,
            response=args.response,
            rating=args.rating,
            preferred=args.preferred,
            rejected=args.rejected,
            comment=args.comment,
        ),
    )
    print(f"feedback {receipt.feedback_id} {'stored' if receipt.stored else 'was stored before'}")
    return 0


async def improve_job(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    handle = await _call(
        client,
        settings,
        START_MODEL_IMPROVEMENT,
        ImprovementRequest(
            organization_id=args.organization_id,
            job_id=args.job_id,
            request_id=args.request_id or uuid.uuid4().hex,
        ),
    )
    print(f"improvement job {handle.job_id} {'submitted' if handle.created else 'already exists'}")
    if args.watch:
        return await watch(client, settings, args.organization_id, handle.job_id)
    return 0
