"""The interface both stores implement; keys are '/'-separated and organisation-scoped."""

from datetime import datetime
from typing import Protocol, Self

from pydantic import BaseModel


class ObjectNotFound(KeyError):
    """No object under that key."""


class ObjectInfo(BaseModel):
    key: str
    size: int
    modified: datetime


class ObjectStore(Protocol):
    """Whole-object reads and writes; a put is atomic, so readers never see half an object."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int:
        """Bytes stored under `key` (ObjectNotFound if none), to refuse a huge object before reading it."""
        ...

    async def delete(self, key: str) -> None: ...

    async def list_objects(self, prefix: str) -> list[ObjectInfo]: ...
