"""Base models by name: what antifragile_core.base_models allows, loaded from the hub cache or a directory."""

from dataclasses import dataclass
from pathlib import Path

from antifragile_core.base_models import base_model_source
from antifragile_core.contracts.training import SMOKE
from antifragile_core.errors import NOT_FOUND, bad_input
from antifragile_core.settings import Settings
from temporalio.exceptions import ApplicationError
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

from .device import Device


@dataclass(frozen=True)
class BaseModelSpec:
    source: str
    """Hub id or local directory; SMOKE for the tiny model built per organisation."""

    @property
    def smoke(self) -> bool:
        return self.source == SMOKE


def resolve_base_model(name: str, settings: Settings) -> BaseModelSpec:
    """The spec for `name`; non-retryable InvalidInput for a name not allowed, NotFound for a missing
    directory."""
    source = base_model_source(name, settings)
    if Path(source).is_absolute() and not Path(source).is_dir():
        raise bad_input(NOT_FOUND, f"base model {name!r}: no model directory at {source}")
    return BaseModelSpec(source)


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
