"""Organisational-model contracts: LoRA training and evaluation (ml-queue), job management (default)."""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field
from temporalio.common import RetryPolicy

from ..queues import DEFAULT_QUEUE, ML_QUEUE
from .base import ActivityContract, Model, OrgId

RequestId = Annotated[str, Field(min_length=1, max_length=128)]

SMOKE = "smoke"
BASE_MODEL_PRESETS = {
    SMOKE: SMOKE,
    "qwen2.5-3b": "Qwen/Qwen2.5-3B-Instruct",
    "mistral-7b": "mistralai/Mistral-7B-Instruct-v0.3",
}
"""Base-model names and what each loads: a hub id, or SMOKE (a tiny model built per organisation)."""


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    EVALUATING = "evaluating"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Hyperparameters(Model):
    """LoRA and optimiser settings; defaults suit a small corpus."""

    lora_r: int = Field(default=16, ge=1, le=256)
    lora_alpha: int = Field(default=32, ge=1)
    lora_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    learning_rate: float = Field(default=2e-4, gt=0)
    epochs: float = Field(default=3.0, gt=0)
    max_steps: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=4, ge=1)
    seq_len: int = Field(default=512, ge=16)
    checkpoint_every: int = Field(default=20, ge=1)
    heldout_fraction: float = Field(default=0.1, gt=0, lt=0.5)
    seed: int = 0


class CorpusDocument(Model):
    """One document of a training corpus; of near-duplicates (equal `text_hash`) only the first stored."""

    document_id: str
    content_hash: str
    text_hash: str
    text_key: str


class CorpusManifest(Model):
    """The corpus a job trains on, fixed at submit: exactly the documents readiness judged.

    Stored content-addressed (`orgs/<org>/training/manifests/<sha256>.json`), so it never changes: retries
    and evaluation read the same documents, and the held-out split (by document) is fixed by it.
    """

    organization_id: OrgId
    documents: list[CorpusDocument]


class TrainingProgress(Model):
    step: int
    total_steps: int
    loss: float | None
    tokens_per_second: float | None
    eta_seconds: float | None
    checkpoint_key: str | None = None


class TrainingRequest(Model):
    """One training run of one job: the dataset comes from the organisation's stored documents."""

    organization_id: OrgId
    job_id: str
    base_model: str = Field(min_length=1)
    hyperparameters: Hyperparameters = Hyperparameters()
    init_adapter_key: str | None = None
    """Continue from this trained model (a `TrainingResult.adapter_key` of the same organisation)."""
    dataset_key: str | None = None
    """Extra supervised examples: JSONL of {"prompt", "completion"}; loss on the completion only."""
    manifest_key: str | None = None
    """The job's CorpusManifest. None only for jobs submitted before manifests existed: those read the
    organisation's current texts, as they did when they started."""


class TrainingMetrics(Model):
    steps: int
    train_tokens: int
    first_loss: float | None
    final_loss: float | None
    tokens_per_second: float
    duration_seconds: float
    resumed_from_step: int | None = None


class TrainingResult(Model):
    job_id: str
    base_model: str
    adapter_key: str
    """The stored model version `orgs/<org>/models/<job>`: adapter/ (with tokenizer), metadata.json."""
    heldout_key: str
    device: str
    metrics: TrainingMetrics


class EvaluationRequest(Model):
    organization_id: OrgId
    job_id: str
    base_model: str
    adapter_key: str
    heldout_key: str
    prompts: list[str] = Field(default_factory=list, max_length=20)
    max_new_tokens: int = Field(default=64, ge=1, le=1024)


class GenerationSample(Model):
    prompt: str
    base: str
    tuned: str


class EvaluationResult(Model):
    job_id: str
    base_perplexity: float
    tuned_perplexity: float
    heldout_tokens: int
    heldout_documents: int = Field(default=0, description="documents held out whole from training")
    heldout_in_training: int = Field(
        default=0,
        description="held-out passages whose text also occurs in the training rows (0: a clean split)",
    )
    samples: list[GenerationSample]


class TrainingJobRequest(Model):
    """A request to train; `request_id` makes a retried submit idempotent."""

    organization_id: OrgId
    request_id: RequestId
    base_model: str = "smoke"
    hyperparameters: Hyperparameters = Hyperparameters()
    parent_job_id: str | None = None
    dataset_key: str | None = None
    prompts: list[str] = Field(default_factory=list, max_length=20)


class TrainingJobHandle(Model):
    job_id: str
    workflow_id: str
    status: JobStatus
    created: bool


class TrainingJobRef(Model):
    organization_id: OrgId
    job_id: str


class TrainingJob(Model):
    """A job as a fine-tuning jobs API reports it."""

    job_id: str
    organization_id: OrgId
    request_id: str
    base_model: str
    status: JobStatus
    progress: TrainingProgress | None = None
    metrics: TrainingMetrics | None = None
    evaluation: EvaluationResult | None = None
    adapter_key: str | None = None
    parent_job_id: str | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class TrainingHistoryQuery(Model):
    organization_id: OrgId
    limit: int = Field(default=20, ge=1, le=200)


class TrainingHistory(Model):
    organization_id: OrgId
    jobs: list[TrainingJob]


class ModelFeedback(Model):
    """A rating of one answer, or an A/B preference between two answers to one prompt."""

    organization_id: OrgId
    job_id: str
    feedback_id: RequestId
    prompt: str = Field(min_length=1)
    response: str | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    preferred: str | None = None
    rejected: str | None = None
    comment: str | None = None


class FeedbackReceipt(Model):
    feedback_id: str
    stored: bool


class ImprovementRequest(Model):
    organization_id: OrgId
    job_id: str
    request_id: RequestId
    method: Literal["sft", "dpo"] = "sft"


TRAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=5,
)

TRAIN_ORGANIZATIONAL_MODEL = ActivityContract(
    name="train_organizational_model",
    queue=ML_QUEUE,
    input=TrainingRequest,
    output=TrainingResult,
    start_to_close=timedelta(hours=12),
    heartbeat=timedelta(minutes=2),
    retry=TRAIN_RETRY,
)
TEST_QWEN_MODEL = ActivityContract(
    name="test_qwen_model",
    queue=ML_QUEUE,
    input=EvaluationRequest,
    output=EvaluationResult,
    start_to_close=timedelta(hours=1),
    heartbeat=timedelta(minutes=2),
    retry=TRAIN_RETRY,
)
SUBMIT_MODEL_TRAINING_JOB = ActivityContract(
    name="submit_model_training_job",
    queue=DEFAULT_QUEUE,
    input=TrainingJobRequest,
    output=TrainingJobHandle,
    start_to_close=timedelta(minutes=1),
)
CHECK_TRAINING_JOB_STATUS = ActivityContract(
    name="check_training_job_status",
    queue=DEFAULT_QUEUE,
    input=TrainingJobRef,
    output=TrainingJob,
    start_to_close=timedelta(seconds=30),
)
GET_ORGANIZATION_TRAINING_HISTORY = ActivityContract(
    name="get_organization_training_history",
    queue=DEFAULT_QUEUE,
    input=TrainingHistoryQuery,
    output=TrainingHistory,
    start_to_close=timedelta(seconds=30),
)
CANCEL_TRAINING_JOB = ActivityContract(
    name="cancel_training_job",
    queue=DEFAULT_QUEUE,
    input=TrainingJobRef,
    output=TrainingJob,
    start_to_close=timedelta(minutes=1),
)
COLLECT_MODEL_FEEDBACK = ActivityContract(
    name="collect_model_feedback",
    queue=DEFAULT_QUEUE,
    input=ModelFeedback,
    output=FeedbackReceipt,
    start_to_close=timedelta(seconds=30),
)
START_MODEL_IMPROVEMENT = ActivityContract(
    name="start_model_improvement",
    queue=DEFAULT_QUEUE,
    input=ImprovementRequest,
    output=TrainingJobHandle,
    start_to_close=timedelta(minutes=5),
)
