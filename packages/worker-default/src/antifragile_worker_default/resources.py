"""What the default-queue activities share: settings, the database pool, the object store, a client."""

from dataclasses import dataclass

import asyncpg
from antifragile_core.settings import Settings
from antifragile_core.storage import ObjectStore
from temporalio.client import Client


@dataclass(frozen=True)
class Resources:
    settings: Settings
    pool: asyncpg.Pool
    store: ObjectStore
    client: Client
