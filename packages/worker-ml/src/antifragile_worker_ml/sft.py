"""The training recipe: LoRA on every linear layer, trained with trl's SFTTrainer.

It imports only the ML stack (no Temporal, no pydantic), so the GPU benchmark runs exactly this code.
The CUDA settings are the measured fast ones (benchmarks/train_throughput.py, results-h200.txt: 28.1k
tokens/s on the Qwen2.5-3B architecture, 15.4k on Mistral-7B, about 1.9x trl's defaults): no gradient
checkpointing (trl turns it on by default; LoRA's frozen weights leave the memory for activations),
Liger's fused RMSNorm/RoPE/SwiGLU kernels, trl's fused LM head (no full-vocabulary logits), no fp32
input casts in the adapters, fused AdamW, bf16, and no LoRA dropout. torch.compile measured slower.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from datasets import Dataset
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.lora import LoraLayer
from transformers import PreTrainedModel, PreTrainedTokenizerBase, PrinterCallback, TrainerCallback
from trl import SFTConfig, SFTTrainer


def lora_config(r: int, alpha: int, dropout: float) -> LoraConfig:
    return LoraConfig(
        r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules="all-linear", task_type="CAUSAL_LM"
    )


def with_adapter(model: PreTrainedModel, config: LoraConfig, init_adapter: Path | None = None) -> PeftModel:
    """A fresh LoRA adapter on `model`, or the one saved at `init_adapter`, trainable.

    peft keeps adapter weights in fp32 and by default casts each adapted layer's input to fp32 before the
    adapter (and autocast casts it straight back to bf16 for the matmul): two full copies of every
    activation per layer. Training runs under bf16 autocast on CUDA, or entirely in fp32 elsewhere, so
    that cast is switched off; autocast casts the small adapter weights instead.
    """
    if init_adapter is not None:
        peft_model = PeftModel.from_pretrained(model, init_adapter, is_trainable=True)
    else:
        peft_model = get_peft_model(model, config)
    for module in peft_model.modules():
        if isinstance(module, LoraLayer):
            module.cast_input_dtype_enabled = False
    return peft_model


def sft_config(
    output_dir: Path,
    device_type: str,
    *,
    batch_size: int,
    seq_len: int,
    learning_rate: float,
    epochs: float,
    max_steps: int | None,
    save_steps: int,
    seed: int,
    **overrides: Any,
) -> SFTConfig:
    """The trainer settings for `device_type` ('cuda', 'mps' or 'cpu'); `overrides` win."""
    cuda = device_type == "cuda"
    settings: dict[str, Any] = {
        "output_dir": str(output_dir),
        "per_device_train_batch_size": batch_size,
        "max_length": seq_len,
        "learning_rate": learning_rate,
        "num_train_epochs": epochs,
        "max_steps": max_steps or -1,
        "save_strategy": "steps",
        "save_steps": save_steps,
        "save_total_limit": 1,  # each checkpoint is in the store by then; keep the local disk small
        "logging_steps": 1,
        "seed": seed,
        "data_seed": seed,
        "completion_only_loss": True,
        "packing": False,
        "gradient_checkpointing": False,
        "bf16": cuda,
        "use_liger_kernel": cuda,
        "optim": "adamw_torch_fused" if cuda else "adamw_torch",
        "use_cpu": device_type == "cpu",
        "dataloader_num_workers": 0,
        "include_num_input_tokens_seen": "non_padding",
        "report_to": "none",
        "disable_tqdm": True,
    }
    return SFTConfig(**(settings | overrides))


def build_trainer(
    model: PeftModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: Dataset | list[dict[str, list[int]]],
    config: SFTConfig,
    callbacks: Sequence[TrainerCallback] = (),
) -> SFTTrainer:
    """An SFTTrainer over pre-tokenized rows (`input_ids`, `completion_mask`)."""
    dataset = rows if isinstance(rows, Dataset) else Dataset.from_list(rows)
    trainer = SFTTrainer(
        model=model, args=config, train_dataset=dataset, processing_class=tokenizer, callbacks=list(callbacks)
    )
    trainer.remove_callback(PrinterCallback)  # progress goes to heartbeats and structured logs, not stdout
    return trainer
