"""What the default-queue activities share: settings, the database pool, the object store, a client."""

from dataclasses import dataclass

import asyncpg
from antifragile_core.errors import INVALID_INPUT, bad_input
from antifragile_core.settings import Settings
from antifragile_core.storage import InvalidKey, ObjectStore, org_key
from antifragile_core.storage.keys import check_key
from temporalio.client import Client


@dataclass(frozen=True)
class Resources:
    settings: Settings
    pool: asyncpg.Pool
    store: ObjectStore
    client: Client


def checked_org_key(organization_id: str, key: str, what: str) -> str:
    """`key` if it is a safe object key under the organisation's prefix, else a non-retryable InvalidInput.

    A caller-supplied key must never reach another organisation's objects, and an unsafe one must fail as
    bad input here rather than as a retryable InvalidKey inside the store.
    """
    try:
        check_key(key)
    except InvalidKey:
        raise bad_input(INVALID_INPUT, f"{what} {key!r} is not a valid object key") from None
    prefix = org_key(organization_id) + "/"
    if not key.startswith(prefix):
        raise bad_input(
            INVALID_INPUT,
            f"{what} {key!r} is outside organisation {organization_id!r}; keep it under {prefix}",
        )
    return key
