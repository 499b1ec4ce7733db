"""PostgreSQL for the API: a pool, and the API's own tables migrated at start-up.

worker-default owns the document schema; the API only reads it. The API's tables (keys, staged uploads)
are migrated here, recorded in the same `schema_migrations` table under an `api/` prefix and under the same
advisory lock, so an API and workers starting together never race on it.
"""

from importlib import resources

import asyncpg

_MIGRATION_LOCK = 7_233_001  # worker-default's key: one migrator at a time across the fleet


async def connect(dsn: str) -> asyncpg.Pool:
    """A pool on `dsn` with the API's tables brought up to date."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
    await migrate(pool)
    return pool


async def migrate(pool: asyncpg.Pool) -> list[str]:
    """Apply the API's migrations not applied yet, in name order; returns the names applied now."""
    files = sorted(
        (f for f in resources.files(__package__).joinpath("migrations").iterdir() if f.name.endswith(".sql")),
        key=lambda f: f.name,
    )
    applied_now = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for f in files:
                name = f"api/{f.name}"
                if name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f.read_text())
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied_now.append(name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now
