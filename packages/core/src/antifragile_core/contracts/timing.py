"""How long each activity may take and how it retries: the fleet's retry policy, argued once.

Faults come in two classes. Bad input and permanent rejections raise a non-retryable ApplicationError
with a type from `antifragile_core.errors`; they fail at once, whatever the policy. Everything else —
PostgreSQL, the object store, the LLM endpoint or the network down, slow or rate-limited, a worker
killed mid-attempt — retries with capped exponential backoff until the activity's schedule-to-close,
never against a small attempt count: an outage of minutes must not turn into lost work that a user
has to find and redo. Only the final failure is recorded in history, so retries never grow it.

Three timeouts per activity, each with one job:
- start_to_close bounds one attempt (a hung call); the work's own limits (pages, bytes, wall time from
  settings) come first, this is the backstop.
- heartbeat detects a dead worker: a killed process stops heartbeating and the attempt is retried
  elsewhere within it, so a kill -9 is recovered within a minute, not a whole start-to-close. Every
  activity has one: `antifragile_core.keepalive` sends it while an async activity's coroutine is
  alive, worker-ml's helper thread while training runs.
- schedule_to_close is how long the work is still worth doing: hours for uploads, LLM reading of
  documents and training, which nobody watches; minutes for a lookup a person is waiting on.

Backoff caps: 30 s for PostgreSQL, store and network faults, so recovery comes at most ~30 s after
the service is back; 60 s for LLM endpoints (they rate-limit; a Retry-After they send wins through
`next_retry_delay`); 5 minutes for training, whose attempts are expensive.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.common import RetryPolicy

TRANSIENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
LLM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
TRAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
)

CRASH_DETECTION = timedelta(seconds=30)
"""Heartbeat timeout: a killed worker's attempt is retried within this."""


@dataclass(frozen=True)
class Timing:
    """One activity's timeouts and retry policy."""

    start_to_close: timedelta
    schedule_to_close: timedelta
    heartbeat: timedelta = CRASH_DETECTION
    retry: RetryPolicy = field(default_factory=lambda: TRANSIENT_RETRY)


LOOKUP = Timing(start_to_close=timedelta(seconds=30), schedule_to_close=timedelta(minutes=5))
"""Reads and small keyed writes a person or a step waits on (job status, history, costs, feedback,
job updates, schedules): one attempt is a few queries; after five minutes of outage the caller is
better told than kept waiting."""

SEARCH = Timing(start_to_close=timedelta(minutes=2), schedule_to_close=timedelta(minutes=10))
"""Passage search: builds an index on first use, so longer per attempt; a person waits on the answer."""

JOB_CONTROL = Timing(start_to_close=timedelta(minutes=1), schedule_to_close=timedelta(minutes=30))
"""Submitting, cancelling or improving a training job: keyed writes plus a workflow start; an operator
issued them and expects them to land even across a short outage."""

IMPROVEMENT = Timing(start_to_close=timedelta(minutes=5), schedule_to_close=timedelta(minutes=30))
"""start_model_improvement: as JOB_CONTROL, but it first writes the feedback dataset, which can be long."""

UPLOAD = Timing(
    start_to_close=timedelta(minutes=10),
    schedule_to_close=timedelta(hours=6),
)
"""process_document_upload: a large PDF may extract for minutes; nobody watches a batch, so the upload
waits out an outage of hours rather than being lost."""

BATCH_STEP = Timing(start_to_close=timedelta(minutes=1), schedule_to_close=timedelta(hours=6))
"""A batch's bookkeeping (a page of its uploads, a document's outcome, the summary): keyed queries a
batch nobody watches waits on, so they wait out an outage of hours like the uploads themselves."""

READINESS = Timing(start_to_close=timedelta(minutes=2), schedule_to_close=timedelta(hours=1))
"""validate_training_readiness: one aggregate query at the end of a batch whose documents are stored."""

LLM_DOCUMENT = Timing(
    start_to_close=timedelta(minutes=15),
    schedule_to_close=timedelta(hours=6),
    retry=LLM_RETRY,
)
"""Summary and analysis: a long document is read in several requests (OPENAI_TIMEOUT_SECONDS each);
an endpoint down or rate-limited for hours delays documents, it does not lose them."""

LLM_INTERACTIVE = Timing(
    start_to_close=timedelta(minutes=10),
    schedule_to_close=timedelta(minutes=30),
    retry=LLM_RETRY,
)
"""Research, catchball and wisdom drafts: people wait on the answer; after half an hour they hear why."""

SCAN = Timing(
    start_to_close=timedelta(minutes=10),
    schedule_to_close=timedelta(hours=6),
)
"""Competitor scan of many sites, politely spaced: weekly, so hours of retrying are fine."""

NOTIFICATION = Timing(start_to_close=timedelta(minutes=2), schedule_to_close=timedelta(hours=12))
"""An email: keyed by its idempotency key, so a mail server down for hours only delays it."""

HEALTH_REPORT = Timing(start_to_close=timedelta(minutes=1), schedule_to_close=timedelta(minutes=5))
"""A report of the services' state now; one retried for long would describe the past."""

CLEANUP = Timing(
    start_to_close=timedelta(minutes=30),
    schedule_to_close=timedelta(hours=12),
)
"""Daily retention in batches; the next day's run would catch up anyway."""

TRAINING = Timing(
    start_to_close=timedelta(hours=12),
    heartbeat=timedelta(seconds=45),
    schedule_to_close=timedelta(hours=48),
    retry=TRAIN_RETRY,
)
"""LoRA training resumes from its last heartbeated checkpoint. worker-ml's helper thread repeats the
heartbeat every HEARTBEAT_THROTTLE_SECONDS, so 45 s leaves room for a GIL-heavy step on a busy box."""

EVALUATION = Timing(
    start_to_close=timedelta(hours=1),
    heartbeat=timedelta(seconds=45),
    schedule_to_close=timedelta(hours=6),
    retry=TRAIN_RETRY,
)
"""Evaluating a tuned model: as training, shorter."""
