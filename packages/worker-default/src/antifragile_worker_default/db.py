"""PostgreSQL: one pool per worker, and the schema migrated at start-up from numbered SQL files."""

from importlib import resources

import asyncpg

_MIGRATION_LOCK = 7_233_001  # pg_advisory_lock key: workers starting together migrate one at a time


async def connect(dsn: str) -> asyncpg.Pool:
    """A pool on `dsn` with the schema brought up to date."""
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
    await migrate(pool)
    return pool


async def migrate(pool: asyncpg.Pool) -> list[str]:
    """Apply every migration not applied yet, in name order; returns the names applied now."""
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
                if f.name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f.read_text())
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", f.name)
                applied_now.append(f.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied_now
