"""`test_qwen_model`: the tuned model against its base on held-out text, and side-by-side generations."""

import math
import tempfile
from pathlib import Path

import torch
from antifragile_core.contracts.training import EvaluationRequest, EvaluationResult, GenerationSample
from antifragile_core.errors import INVALID_INPUT, NOT_FOUND, bad_input
from antifragile_core.storage import checked_org_key
from peft import PeftModel
from transformers import PreTrainedTokenizerBase

from .dataset import parse_heldout
from .device import Device, pick_device
from .heartbeat import keepalive
from .layout import ModelMetadata, ModelVersion
from .presets import SMOKE, load_model, load_saved_tokenizer
from .sync_store import SyncStore


def evaluate(store: SyncStore, req: EvaluationRequest) -> EvaluationResult:
    """Perplexity of base and tuned model on the job's held-out text, and both models' answers."""
    version = ModelVersion(checked_org_key(req.organization_id, req.adapter_key, "adapter_key"))
    heldout_key = checked_org_key(req.organization_id, req.heldout_key, "heldout_key")
    if not store.exists(version.metadata):
        raise bad_input(NOT_FOUND, f"no trained model at adapter_key {version.prefix!r}")
    if not store.exists(heldout_key):
        raise bad_input(NOT_FOUND, f"no held-out text at heldout_key {heldout_key!r}")
    metadata = ModelMetadata.model_validate_json(store.get(version.metadata))
    if req.base_model != metadata.request.base_model:
        raise bad_input(
            INVALID_INPUT,
            f"the adapter at {version.prefix!r} was trained on {metadata.request.base_model!r}, "
            f"not {req.base_model!r}",
        )
    device = pick_device()
    with keepalive():
        return _evaluate(store, req, version, heldout_key, metadata, device)


def _evaluate(
    store: SyncStore,
    req: EvaluationRequest,
    version: ModelVersion,
    heldout_key: str,
    metadata: ModelMetadata,
    device: Device,
) -> EvaluationResult:
    with tempfile.TemporaryDirectory(prefix="eval-") as tmp:
        work = Path(tmp)
        store.download_dir(version.adapter, work / "adapter")
        source: str | Path = metadata.base_source
        if source == SMOKE:
            source = work / "base"
            store.download_dir(version.base, source)
        tokenizer = load_saved_tokenizer(work / "adapter")
        model = PeftModel.from_pretrained(load_model(source, device), work / "adapter").eval()

    texts = parse_heldout(store.get(heldout_key))
    seq_len = metadata.request.hyperparameters.seq_len
    with model.disable_adapter():
        base_nll, tokens = _nll(model, tokenizer, texts, seq_len)
        base_answers = [_generate(model, tokenizer, p, req.max_new_tokens) for p in req.prompts]
    tuned_nll, _ = _nll(model, tokenizer, texts, seq_len)
    tuned_answers = [_generate(model, tokenizer, p, req.max_new_tokens) for p in req.prompts]
    return EvaluationResult(
        job_id=req.job_id,
        base_perplexity=math.exp(base_nll / tokens),
        tuned_perplexity=math.exp(tuned_nll / tokens),
        heldout_tokens=tokens,
        heldout_documents=metadata.heldout_documents,
        heldout_in_training=metadata.heldout_in_training,
        samples=[
            GenerationSample(prompt=p, base=b, tuned=t)
            for p, b, t in zip(req.prompts, base_answers, tuned_answers, strict=True)
        ],
    )


@torch.no_grad()
def _nll(
    model: PeftModel, tokenizer: PreTrainedTokenizerBase, texts: list[str], seq_len: int
) -> tuple[float, int]:
    """Summed next-token negative log-likelihood over the texts, in windows of the training length."""
    total, count = 0.0, 0
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"].to(model.device)
        for start in range(0, ids.shape[1], seq_len):
            window = ids[:, start : start + seq_len]
            if window.shape[1] < 2:
                continue
            loss = model(input_ids=window, labels=window).loss
            total += loss.item() * (window.shape[1] - 1)
            count += window.shape[1] - 1
    if count == 0:
        raise bad_input(NOT_FOUND, "the held-out text is empty")
    return total, count


@torch.no_grad()
def _generate(model: PeftModel, tokenizer: PreTrainedTokenizerBase, prompt: str, max_new_tokens: int) -> str:
    """A greedy answer to `prompt` as a user turn of the model's own chat template."""
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
    )
    inputs = tokenizer(text, add_special_tokens=False, return_tensors="pt").to(model.device)
    output = model.generate(
        **inputs,
        max_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
