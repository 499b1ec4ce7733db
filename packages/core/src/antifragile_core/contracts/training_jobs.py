"""Helper contract of training-job management: TrainingWorkflow records each stage of a job through it."""

from ..queues import DEFAULT_QUEUE
from .base import ActivityContract, Model, OrgId
from .timing import LOOKUP
from .training import EvaluationResult, JobStatus, TrainingJob, TrainingMetrics


class TrainingJobUpdate(Model):
    """A job's new stage; fields left None keep their stored value. Terminal states are final."""

    organization_id: OrgId
    job_id: str
    status: JobStatus
    metrics: TrainingMetrics | None = None
    evaluation: EvaluationResult | None = None
    adapter_key: str | None = None
    heldout_key: str | None = None
    error: str | None = None


RECORD_TRAINING_JOB_UPDATE = ActivityContract(
    name="record_training_job_update",
    queue=DEFAULT_QUEUE,
    input=TrainingJobUpdate,
    output=TrainingJob,
    timing=LOOKUP,
)
