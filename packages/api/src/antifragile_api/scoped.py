"""Request bodies made from the contracts minus the fields the API fills in itself (the organisation,
from the caller's key; a job id, from the path), so a body can never name another organisation."""

from typing import Any, TypeVar

from antifragile_core.contracts.base import Model
from pydantic import BaseModel, create_model

M = TypeVar("M", bound=BaseModel)


def body_of(contract_input: type[BaseModel], *filled: str) -> type[Model]:
    """A body model with `contract_input`'s fields except `organization_id` and `filled`."""
    dropped = {"organization_id", *filled}
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in contract_input.model_fields.items()
        if name not in dropped
    }
    return create_model(f"{contract_input.__name__}Body", __base__=Model, **fields)


def scoped(contract_input: type[M], organization_id: str, body: BaseModel | None = None, **filled: Any) -> M:
    """The contract input for the caller's organisation: the body's fields plus the filled ones."""
    values = body.model_dump() if body is not None else {}
    return contract_input.model_validate(values | filled | {"organization_id": organization_id})
