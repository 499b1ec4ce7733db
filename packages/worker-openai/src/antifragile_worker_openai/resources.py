"""What the openai-queue activities share: settings, the object store and the LLM client."""

from dataclasses import dataclass

from antifragile_core.settings import Settings
from antifragile_core.storage import ObjectStore

from .llm import LLM


@dataclass(frozen=True)
class Resources:
    settings: Settings
    store: ObjectStore
    llm: LLM
