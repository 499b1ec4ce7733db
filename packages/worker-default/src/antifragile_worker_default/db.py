"""PostgreSQL: one pool per worker, and the schema migrated at start-up from numbered SQL files."""

import asyncpg
from antifragile_core.migrations import apply_migrations


async def connect(dsn: str) -> asyncpg.Pool:
    """A pool on `dsn` with the schema brought up to date."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
    await migrate(pool)
    return pool


async def migrate(pool: asyncpg.Pool) -> list[str]:
    """Apply the document schema's migrations not applied yet; returns the names applied now."""
    return await apply_migrations(pool, __package__)
