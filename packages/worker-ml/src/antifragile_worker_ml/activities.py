"""ml-queue's activities. The ML stack is imported on first use, so the worker itself starts in seconds."""

from collections.abc import Callable
from typing import Any

from antifragile_core.contracts.training import (
    TEST_QWEN_MODEL,
    TRAIN_ORGANIZATIONAL_MODEL,
    EvaluationRequest,
    EvaluationResult,
    TrainingRequest,
    TrainingResult,
)
from antifragile_core.settings import Settings

from .heartbeat import keepalive
from .sync_store import SyncStore


def activities(store: SyncStore, settings: Settings) -> list[Callable[..., Any]]:
    @TRAIN_ORGANIZATIONAL_MODEL.implement
    def train_organizational_model(req: TrainingRequest) -> TrainingResult:
        with keepalive():
            from .train import train
        return train(store, req, settings)

    @TEST_QWEN_MODEL.implement
    def test_qwen_model(req: EvaluationRequest) -> EvaluationResult:
        with keepalive():
            from .evaluate import evaluate
        return evaluate(store, req)

    return [train_organizational_model, test_qwen_model]
