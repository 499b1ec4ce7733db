"""Base models by name: the presets, any hub id, or a local model directory."""

from dataclasses import dataclass
from pathlib import Path

from antifragile_core.contracts.training import BASE_MODEL_PRESETS, HUB_ID
from antifragile_core.errors import INVALID_INPUT, NOT_FOUND, bad_input
from temporalio.exceptions import ApplicationError
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

from .device import Device

SMOKE = "smoke"
PRESETS = {
    "qwen2.5-3b": "Qwen/Qwen2.5-3B-Instruct",
    "mistral-7b": "mistralai/Mistral-7B-Instruct-v0.3",
}


@dataclass(frozen=True)
class BaseModelSpec:
    source: str
    """Hub id or local directory; SMOKE for the tiny model built per organisation."""

    @property
    def smoke(self) -> bool:
        return self.source == SMOKE


def resolve_base_model(name: str) -> BaseModelSpec:
    """The spec for `name`, or a non-retryable error naming what is accepted."""
    if name == SMOKE:
        return BaseModelSpec(SMOKE)
    if name in PRESETS:
        return BaseModelSpec(PRESETS[name])
    if Path(name).is_dir() or HUB_ID.match(name):
        return BaseModelSpec(name)
    raise bad_input(
        INVALID_INPUT,
        f"unknown base model {name!r}: use a preset ({', '.join(BASE_MODEL_PRESETS)}), "
        "a hub id such as 'Qwen/Qwen2.5-0.5B-Instruct', or an existing local model directory",
    )


def load_pretrained(source: str, device: Device) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A hub or local model in the device's dtype, and its tokenizer (with a pad token for batching)."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except OSError as e:
        raise _unavailable(source, e) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return load_model(source, device), tokenizer


def load_model(source: str | Path, device: Device) -> PreTrainedModel:
    """The model alone, in the device's dtype: evaluation takes the tokenizer saved with the adapter."""
    try:
        model = AutoModelForCausalLM.from_pretrained(source, dtype=device.dtype)
    except OSError as e:
        raise _unavailable(source, e) from None
    return model.to(device.type)


def _unavailable(source: str | Path, error: OSError) -> ApplicationError:
    message = f"base model {str(source)!r} is neither cached nor downloadable here: {error}"
    return bad_input(NOT_FOUND, message)


def load_saved_tokenizer(local: Path) -> PreTrainedTokenizerFast:
    """A tokenizer this worker saved. AutoTokenizer would follow the Qwen2 config and swap a self-trained
    tokenizer for Qwen2Tokenizer; the fast class loads tokenizer.json and the chat template as saved."""
    return PreTrainedTokenizerFast.from_pretrained(local)
