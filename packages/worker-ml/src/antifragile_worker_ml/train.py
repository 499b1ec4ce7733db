"""`train_organizational_model`: a LoRA adapter trained on the organisation's documents, resumable."""

import logging
import tempfile
import time
from pathlib import Path

from antifragile_core.contracts.training import TrainingMetrics, TrainingRequest, TrainingResult
from antifragile_core.errors import NOT_FOUND, bad_input
from antifragile_core.settings import Settings
from antifragile_core.storage import checked_org_key
from temporalio import activity
from temporalio.exceptions import CancelledError
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from . import smoke
from .checkpoints import ActivityProgress, checkpoint_step, restore_checkpoint
from .dataset import build_splits, heldout_jsonl, load_corpus, split_documents
from .device import Device, pick_device
from .heartbeat import Heartbeat, keepalive
from .layout import ModelMetadata, ModelVersion, checkpoints_prefix
from .presets import BaseModelSpec, load_pretrained, resolve_base_model
from .sft import build_trainer, lora_config, sft_config, with_adapter
from .sync_store import SyncStore

log = logging.getLogger(__name__)


def train(store: SyncStore, req: TrainingRequest, settings: Settings) -> TrainingResult:
    """Train, resuming from the checkpoint a previous attempt heartbeated; idempotent once stored."""
    spec = resolve_base_model(req.base_model, settings)
    version = ModelVersion.of(req.organization_id, req.job_id)
    parent = None
    if req.init_adapter_key:
        parent = ModelVersion(checked_org_key(req.organization_id, req.init_adapter_key, "init_adapter_key"))
    if req.dataset_key:
        checked_org_key(req.organization_id, req.dataset_key, "dataset_key")
    if store.exists(version.metadata):  # a retry after the model was stored: nothing left to do
        return ModelMetadata.model_validate_json(store.get(version.metadata)).result
    if parent is not None and not store.exists(parent.metadata):
        raise bad_input(NOT_FOUND, f"no trained model at init_adapter_key {parent.prefix!r}")

    with tempfile.TemporaryDirectory(prefix="train-") as tmp, keepalive() as heartbeat:
        return _train(store, req, spec, version, parent, heartbeat, Path(tmp))


def _train(
    store: SyncStore,
    req: TrainingRequest,
    spec: BaseModelSpec,
    version: ModelVersion,
    parent: ModelVersion | None,
    heartbeat: Heartbeat,
    work: Path,
) -> TrainingResult:
    hp = req.hyperparameters
    device = pick_device()
    corpus = load_corpus(store, req.organization_id, req.manifest_key, req.dataset_key)
    train_docs, heldout_docs = split_documents(corpus.documents, hp.heldout_fraction, hp.seed)
    model, tokenizer = _base_model(store, spec, version, parent, [d.text for d in train_docs], device, work)
    splits = build_splits(tokenizer, train_docs, heldout_docs, corpus.examples, hp.seq_len)
    store.put(version.heldout, heldout_jsonl(splits.heldout))
    init_adapter = None
    if parent is not None:
        init_adapter = work / "init-adapter"
        store.download_dir(parent.adapter, init_adapter)
    peft_model = with_adapter(model, lora_config(hp.lora_r, hp.lora_alpha, hp.lora_dropout), init_adapter)
    resume = restore_checkpoint(store, activity.info().heartbeat_details, work / "out")
    progress = ActivityProgress(heartbeat, store, checkpoints_prefix(req.organization_id, req.job_id), resume)
    config = sft_config(
        work / "out",
        device.type,
        batch_size=hp.batch_size,
        seq_len=hp.seq_len,
        learning_rate=hp.learning_rate,
        epochs=hp.epochs,
        max_steps=hp.max_steps,
        save_steps=hp.checkpoint_every,
        seed=hp.seed,
    )
    trainer = build_trainer(peft_model, tokenizer, splits.train, config, [progress])
    log.info(
        "training",
        extra={"job_id": req.job_id, "device": device.name, "resume": str(resume), "rows": len(splits.train)},
    )
    started = time.monotonic()
    # Cancellation is observed between steps by the callback, never thrown into the middle of a
    # checkpoint upload; leaving the shield re-raises it.
    with activity.shield_thread_cancel_exception():
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    state = trainer.state
    if progress.cancelled:
        raise CancelledError(f"cancelled at step {state.global_step}; kept {progress.checkpoint_key}")

    result = TrainingResult(
        job_id=req.job_id,
        base_model=req.base_model,
        adapter_key=version.prefix,
        heldout_key=version.heldout,
        device=device.name,
        metrics=TrainingMetrics(
            steps=state.global_step,
            train_tokens=state.num_input_tokens_seen,
            first_loss=progress.first_loss,
            final_loss=progress.last_loss,
            tokens_per_second=progress.tokens_per_second(state),
            duration_seconds=time.monotonic() - started,
            resumed_from_step=checkpoint_step(resume.name) if resume else None,
        ),
    )
    adapter_dir = work / "adapter"
    peft_model.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)
    store.upload_dir(adapter_dir, version.adapter)
    metadata = ModelMetadata(
        result=result,
        request=req,
        base_source=spec.source,
        label=smoke.SMOKE_LABEL if spec.smoke else None,
        documents=len(corpus.documents),
        train_examples=len(splits.train),
        heldout_examples=len(splits.heldout),
        heldout_documents=splits.heldout_documents,
        heldout_in_training=splits.heldout_in_training,
    )
    store.put(version.metadata, metadata.model_dump_json(indent=2).encode())  # marks the version complete
    store.delete_prefix(progress.prefix)  # checkpoints only served this run
    return result


def _base_model(
    store: SyncStore,
    spec: BaseModelSpec,
    version: ModelVersion,
    parent: ModelVersion | None,
    texts: list[str],
    device: Device,
    work: Path,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The base model; a smoke base is stored with the version so that retries, evaluation and child jobs
    use the very same weights and tokenizer (a parent's smoke base is inherited)."""
    if not spec.smoke:
        return load_pretrained(spec.source, device)
    local = work / "base"
    if store.download_dir(version.base, local) == 0:
        if parent is None or store.download_dir(parent.base, local) == 0:
            tokenizer = smoke.build_tokenizer(texts)
            smoke.build_model(tokenizer, seed=0).save_pretrained(local)
            tokenizer.save_pretrained(local)
        store.upload_dir(local, version.base)
    return smoke.load(local, device)
