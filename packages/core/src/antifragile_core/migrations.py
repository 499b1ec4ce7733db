"""Schema migrations: numbered SQL files in a package's `migrations/` folder, each applied once.

Every migrating process (worker-default for the document schema, the API for its own tables) records
what it applied in one `schema_migrations` table, under one fleet-wide advisory lock, so processes
starting together never race on the schema.
"""

from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

MIGRATION_LOCK = 7_233_001
"""pg_advisory_lock key shared by every migrating process of the fleet."""


async def apply_migrations(pool: "asyncpg.Pool", package: str, prefix: str = "") -> list[str]:
    """Apply `package`'s migrations not applied yet, in name order, each in its own transaction; they
    are recorded as `prefix + file name`. Returns the names applied now."""
    files = sorted(
        (f for f in resources.files(package).joinpath("migrations").iterdir() if f.name.endswith(".sql")),
        key=lambda f: f.name,
    )
    applied_now = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for f in files:
                name = prefix + f.name
                if name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f.read_text())
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied_now.append(name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    return applied_now
