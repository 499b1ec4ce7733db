"""API keys: stored hashed, found by id, refused once revoked; the org id comes from the key."""

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio
from antifragile_api import db
from antifragile_api.keys import authenticate, create_key, list_keys, revoke_key


@pytest_asyncio.fixture
async def pool(postgres_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.connect(postgres_dsn)
    yield pool
    await pool.close()


async def test_a_key_is_stored_only_as_its_hash_and_names_its_organisation(
    pool: asyncpg.Pool, org_id: str
) -> None:
    key_id, key = await create_key(pool, org_id, "member", "reporting")
    stored = await pool.fetchrow("SELECT * FROM api_keys WHERE key_id = $1", key_id)
    assert key.encode() not in bytes(stored["key_hash"]) and key not in str(dict(stored))

    caller = await authenticate(pool, key)
    assert caller is not None and (caller.organization_id, caller.role) == (org_id, "member")
    assert await authenticate(pool, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert await authenticate(pool, "afk_nothing_here") is None


async def test_a_revoked_key_is_refused_and_only_its_organisation_can_revoke_it(
    pool: asyncpg.Pool, org_id: str
) -> None:
    key_id, key = await create_key(pool, org_id, "admin")
    assert not await revoke_key(pool, f"{org_id}-other", key_id)
    assert await authenticate(pool, key) is not None

    assert await revoke_key(pool, org_id, key_id)
    assert await authenticate(pool, key) is None
    [info] = await list_keys(pool, org_id)
    assert info.key_id == key_id and info.revoked_at is not None
