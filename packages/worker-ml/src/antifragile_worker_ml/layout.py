"""Where one training job's objects live in the store (everything under its organisation and job id), and
the metadata.json that marks a stored model version complete."""

from dataclasses import dataclass

from antifragile_core.contracts.training import TrainingRequest, TrainingResult
from antifragile_core.errors import INVALID_INPUT, bad_input
from antifragile_core.storage import InvalidKey, org_key
from pydantic import BaseModel


@dataclass(frozen=True)
class ModelVersion:
    """A trained model version, `orgs/<org>/models/<job>`: adapter+tokenizer, metadata, held-out text and,
    for the smoke preset, the tiny base the adapter was trained on."""

    prefix: str

    @classmethod
    def of(cls, organization_id: str, job_id: str) -> "ModelVersion":
        try:
            return cls(org_key(organization_id, "models", job_id))
        except InvalidKey as e:
            raise bad_input(INVALID_INPUT, f"job id {job_id!r} cannot name stored objects: {e}") from None

    @property
    def adapter(self) -> str:
        return f"{self.prefix}/adapter"

    @property
    def base(self) -> str:
        return f"{self.prefix}/base"

    @property
    def metadata(self) -> str:
        return f"{self.prefix}/metadata.json"

    @property
    def heldout(self) -> str:
        return f"{self.prefix}/heldout.jsonl"


class ModelMetadata(BaseModel):
    """Stored beside the adapter: what evaluation and later jobs need to rebuild the model."""

    result: TrainingResult
    request: TrainingRequest
    base_source: str
    label: str | None
    documents: int
    train_examples: int
    heldout_examples: int
    heldout_documents: int = 0
    heldout_in_training: int = 0


def checkpoints_prefix(organization_id: str, job_id: str) -> str:
    return org_key(organization_id, "checkpoints", job_id)


def documents_prefix(organization_id: str) -> str:
    return org_key(organization_id, "documents")
