"""LoRA training throughput of the worker's own recipe against plain HF + PEFT defaults.

Runs on random-initialised models of the Qwen2.5-3B and Mistral-7B architectures (configs below: nothing is
downloaded), seq 2048, LoRA r=16 on every linear layer, and prints tokens/s, peak memory and LoRA-MFU for

- `hf-default`: trl's SFTConfig and peft's LoraConfig defaults (gradient checkpointing on), bf16;
- `worker`: `antifragile_worker_ml.sft` exactly as the worker trains on CUDA;
- `worker+compile`: the same with torch.compile (optional; minutes of compilation first).

LoRA-MFU counts per token 4·N (forward and input gradients through the frozen matmuls, LM head included),
6·N_lora (the adapters also get weight gradients) and 6·L·S·d for causal attention (QKᵀ and AV, forward
and backward), against the 989 TFLOP/s dense bf16 peak of an H100/H200.

    PYTHONPATH=packages/worker-ml/src python packages/worker-ml/benchmarks/train_throughput.py
    ... --tiny   # a dry run on the CPU with toy configs
"""

import argparse
import gc
import importlib.metadata
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import torch
from antifragile_worker_ml.device import pick_device
from antifragile_worker_ml.sft import build_trainer, lora_config, sft_config, with_adapter
from datasets import Dataset
from peft import LoraConfig, get_peft_model
from tokenizers import Tokenizer, models
from transformers import (
    AutoModelForCausalLM,
    MistralConfig,
    PretrainedConfig,
    PreTrainedTokenizerFast,
    Qwen2Config,
    TrainerCallback,
)
from trl import SFTConfig, SFTTrainer

PEAK_FLOPS = 989e12
VERSIONS_OF = ("torch", "transformers", "peft", "trl", "accelerate", "liger-kernel")
ARCHITECTURES: dict[str, tuple[type[PretrainedConfig], dict[str, Any]]] = {
    "qwen2.5-3b": (
        Qwen2Config,
        dict(
            vocab_size=151936,
            hidden_size=2048,
            intermediate_size=11008,
            num_hidden_layers=36,
            num_attention_heads=16,
            num_key_value_heads=2,
            max_position_embeddings=32768,
            rope_theta=1_000_000.0,
            rms_norm_eps=1e-6,
            tie_word_embeddings=True,
        ),
    ),
    "mistral-7b": (
        MistralConfig,
        dict(
            vocab_size=32768,
            hidden_size=4096,
            intermediate_size=14336,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            max_position_embeddings=32768,
            rope_theta=1_000_000.0,
            rms_norm_eps=1e-5,
            sliding_window=None,
            tie_word_embeddings=False,
        ),
    ),
}
TINY = {
    "vocab_size": 1024,  # full vocabularies make the logits, not the toy layers, the CPU's whole work
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


class StepTimer(TrainerCallback):
    """Wall time of the steps after the warm-up ones (which compile kernels)."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start: float | None = None
        self.end = 0.0
        self.steps = 0

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if state.global_step == self.warmup:
            self.start = time.perf_counter()
        elif state.global_step > self.warmup:
            self.end, self.steps = time.perf_counter(), state.global_step - self.warmup


def attention_dim(config: PretrainedConfig) -> int:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return config.num_attention_heads * head_dim


def base_matmul_params(config: PretrainedConfig) -> int:
    h, d = config.hidden_size, attention_dim(config)
    kv = config.num_key_value_heads * (d // config.num_attention_heads)
    per_layer = h * d + 2 * h * kv + d * h + 3 * h * config.intermediate_size
    return config.num_hidden_layers * per_layer + h * config.vocab_size


def flops_per_token(config: PretrainedConfig, lora_params: int, seq: int) -> float:
    attention = 6 * config.num_hidden_layers * seq * attention_dim(config)
    return 4 * base_matmul_params(config) + 6 * lora_params + attention


def special_tokens_only() -> PreTrainedTokenizerFast:
    """The trainer wants a processing class for pad/eos ids; the rows are already token ids (from 3 up)."""
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2}
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="<unk>")),
        pad_token="<pad>",
        eos_token="<eos>",
    )


def run_variant(
    config: PretrainedConfig, variant: str, batch: int, seq: int, warmup: int, steps: int
) -> dict[str, Any]:
    device = pick_device()
    torch.manual_seed(0)
    with torch.device(device.type):
        model = AutoModelForCausalLM.from_config(config, dtype=device.dtype, attn_implementation="sdpa")
    total = warmup + steps
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(3, config.vocab_size, (batch * total, seq), generator=generator).tolist()
    rows = [{"input_ids": r, "completion_mask": [1] * seq} for r in ids]
    tokenizer = special_tokens_only()
    timer = StepTimer(warmup)
    with tempfile.TemporaryDirectory() as out:
        if variant == "hf-default":
            defaults = LoraConfig(r=16, target_modules="all-linear", task_type="CAUSAL_LM")
            peft_model = get_peft_model(model, defaults)
            args = SFTConfig(
                output_dir=out,
                per_device_train_batch_size=batch,
                max_length=seq,
                max_steps=total,
                save_strategy="no",
                report_to="none",
                completion_only_loss=True,
                disable_tqdm=True,
                bf16=device.type == "cuda",  # the default there; the CPU dry run needs fp32
                use_cpu=device.type == "cpu",
            )
            trainer = SFTTrainer(
                model=peft_model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer
            )
            trainer.add_callback(timer)
        else:
            peft_model = with_adapter(model, lora_config(16, 32, 0.0))
            overrides = {"save_strategy": "no", "torch_compile": variant == "worker+compile"}
            args = sft_config(
                Path(out),
                device.type,
                batch_size=batch,
                seq_len=seq,
                learning_rate=2e-4,
                epochs=1,
                max_steps=total,
                save_steps=total,
                seed=0,
                **overrides,
            )
            trainer = build_trainer(peft_model, tokenizer, rows, args, [timer])
        lora_params = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        trainer.train()
    seconds = timer.end - (timer.start or timer.end)
    tokens_per_second = timer.steps * batch * seq / seconds if seconds else float("nan")
    return {
        "tokens_per_second": tokens_per_second,
        "step_seconds": seconds / timer.steps if timer.steps else float("nan"),
        "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan"),
        "mfu": tokens_per_second * flops_per_token(config, lora_params, seq) / PEAK_FLOPS,
        "gradient_checkpointing": args.gradient_checkpointing,
        "liger": args.use_liger_kernel,
    }


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(ARCHITECTURES), choices=list(ARCHITECTURES))
    parser.add_argument("--variants", nargs="+", default=["hf-default", "worker"])
    parser.add_argument("--compile-models", nargs="*", default=[], help="also run worker+compile for these")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--tiny", action="store_true", help="toy configs, for a dry run on the CPU")
    parser.add_argument("--budget-seconds", type=float, default=float("inf"), help="skip compile runs after")
    args = parser.parse_args()

    started = time.monotonic()
    device = pick_device()
    print(f"device: {device.name}; batch {args.batch} x seq {args.seq}")
    print(", ".join(f"{m} {importlib.metadata.version(m)}" for m in VERSIONS_OF), flush=True)
    print("model       variant           tokens/s  s/step  peak GiB  LoRA-MFU  vs HF", flush=True)
    for name in args.models:
        config_class, values = ARCHITECTURES[name]
        config = config_class(**(values | (TINY if args.tiny else {})))
        variants = list(args.variants) + (["worker+compile"] if name in args.compile_models else [])
        baseline = None
        for variant in variants:
            if variant == "worker+compile" and time.monotonic() - started > args.budget_seconds:
                print(f"{name:<12}{variant:<16}skipped: past the time budget", flush=True)
                continue
            try:
                r = run_variant(config, variant, args.batch, args.seq, args.warmup, args.steps)
            except Exception as e:  # one variant failing (OOM, a kernel) must not hide the others' figures
                traceback.print_exc()
                print(f"{name:<12}{variant:<16}failed: {type(e).__name__}: {str(e)[:200]}", flush=True)
                continue
            finally:
                free_memory()
            if variant == "hf-default":
                baseline = r["tokens_per_second"]
            ratio = f"{r['tokens_per_second'] / baseline:.2f}x" if baseline else "-"
            print(
                f"{name:<12}{variant:<16}{r['tokens_per_second']:>10.0f}{r['step_seconds']:>8.3f}"
                f"{r['peak_gib']:>10.1f}{r['mfu']:>10.1%}{ratio:>7}"
                f"   (gradient checkpointing {r['gradient_checkpointing']}, liger {r['liger']})",
                flush=True,
            )
    print(f"total {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
