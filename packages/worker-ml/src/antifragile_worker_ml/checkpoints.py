"""Trainer checkpoints in the object store: uploaded as the trainer writes them, found again on retry."""

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from antifragile_core.contracts.training import TrainingProgress
from temporalio import activity
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from .heartbeat import Heartbeat
from .sync_store import SyncStore

log = logging.getLogger(__name__)

SUPERSEDED_KEEP_SECONDS = 60.0
"""Far longer than a heartbeat takes to reach Temporal (the throttle is about a second)."""


def checkpoint_step(key: str) -> int:
    """The step of a checkpoint named like the trainer's folders, '.../checkpoint-<step>'."""
    return int(key.rsplit("-", 1)[1])


def restore_checkpoint(store: SyncStore, heartbeat_details: Sequence[Any], output_dir: Path) -> Path | None:
    """Download the checkpoint the last attempt heartbeated, if any, into the trainer's output folder."""
    if not heartbeat_details:
        return None
    key = TrainingProgress.model_validate(heartbeat_details[-1]).checkpoint_key
    if key is None:
        return None
    local = output_dir / key.rsplit("/", 1)[1]
    if store.download_dir(key, local) == 0:
        log.warning("heartbeated checkpoint is gone; training from the start", extra={"key": key})
        return None
    return local


class ActivityProgress(TrainerCallback):
    """Reports progress every logged step, uploads each checkpoint, stops within a step of cancellation.

    The heartbeat always carries the latest uploaded checkpoint's key: Temporal keeps only the last
    heartbeat's details, and a retried attempt resumes from them. The SDK sends heartbeats later, in the
    background, so a superseded checkpoint is deleted only SUPERSEDED_KEEP_SECONDS after its successor's
    key was heartbeated: a crash at any point leaves the checkpoint the server names in the store.
    """

    def __init__(
        self, heartbeat: Heartbeat, store: SyncStore, prefix: str, resumed_from: Path | None
    ) -> None:
        self.heartbeat = heartbeat
        self.store = store
        self.prefix = prefix
        self.checkpoint_key = f"{prefix}/{resumed_from.name}" if resumed_from else None
        self.first_loss: float | None = None
        self.last_loss: float | None = None
        self.cancelled = False
        self._started = time.monotonic()
        self._start_step = 0
        self._start_tokens = 0
        self._superseded: list[tuple[str, float]] = []

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self._started = time.monotonic()
        self._start_step = state.global_step
        self._start_tokens = state.num_input_tokens_seen

    def tokens_per_second(self, state: TrainerState) -> float:
        elapsed = time.monotonic() - self._started
        return (state.num_input_tokens_seen - self._start_tokens) / elapsed if elapsed > 0 else 0.0

    def progress(self, state: TrainerState) -> TrainingProgress:
        done = state.global_step - self._start_step
        elapsed = time.monotonic() - self._started
        eta = (state.max_steps - state.global_step) * elapsed / done if done else None
        return TrainingProgress(
            step=state.global_step,
            total_steps=state.max_steps,
            loss=self.last_loss,
            tokens_per_second=self.tokens_per_second(state) if done else None,
            eta_seconds=eta,
            checkpoint_key=self.checkpoint_key,
        )

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if logs and "loss" in logs:
            self.last_loss = float(logs["loss"])
            if self.first_loss is None:
                self.first_loss = self.last_loss
        self.heartbeat.send(self.progress(state))

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if activity.is_cancelled():
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = False

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        folder = f"checkpoint-{state.global_step}"
        key = f"{self.prefix}/{folder}"
        self.store.upload_dir(Path(args.output_dir) / folder, key)
        previous, self.checkpoint_key = self.checkpoint_key, key
        self.heartbeat.send(self.progress(state))
        if previous not in (None, key):
            self._superseded.append((previous, time.monotonic()))
        self._delete_superseded()
        log.info("checkpoint stored", extra={"key": key, "step": state.global_step})

    def _delete_superseded(self) -> None:
        now = time.monotonic()
        for key, since in list(self._superseded):
            if now - since > SUPERSEDED_KEEP_SECONDS:
                self.store.delete_prefix(key)
                self._superseded.remove((key, since))
