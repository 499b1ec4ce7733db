"""PostgreSQL for the API: a pool, and the API's own tables migrated at start-up.

worker-default owns the document schema; the API only reads it. The API's tables (keys, staged uploads)
are migrated here, recorded in the same `schema_migrations` table under an `api/` prefix and under the same
advisory lock, so an API and workers starting together never race on it.
"""

import asyncpg
from antifragile_core.migrations import apply_migrations


async def connect(dsn: str) -> asyncpg.Pool:
    """A pool on `dsn` with the API's tables brought up to date."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
    await migrate(pool)
    return pool


async def migrate(pool: asyncpg.Pool) -> list[str]:
    """Apply the API's migrations not applied yet (recorded as `api/<file>`); returns those applied now."""
    return await apply_migrations(pool, __package__, prefix="api/")
