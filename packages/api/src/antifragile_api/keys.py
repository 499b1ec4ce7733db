"""Organisation-scoped API keys: `afk_<key id>_<secret>`, stored as a sha256 hash, never in clear.

The secret carries 256 random bits, so a plain sha256 is enough (no password stretching needed); the key
id finds the row and the hash is compared in constant time.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from antifragile_core.contracts.base import OrgId
from pydantic import TypeAdapter

Role = Literal["admin", "member"]
ROLES: tuple[Role, ...] = ("admin", "member")
_PREFIX = "afk"
_ORG = TypeAdapter(OrgId)


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: the organisation and role of its key."""

    organization_id: str
    role: Role
    key_id: str


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    organization_id: str
    role: Role
    label: str
    created_at: datetime
    revoked_at: datetime | None


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create_key(
    pool: asyncpg.Pool, organization_id: str, role: Role, label: str = ""
) -> tuple[str, str]:
    """A new key for the organisation; returns (key id, the key). The key is shown once, then only its
    hash exists."""
    _ORG.validate_python(organization_id)
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    key_id = secrets.token_hex(8)
    key = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    await pool.execute(
        "INSERT INTO api_keys (key_id, organization_id, role, key_hash, label) VALUES ($1, $2, $3, $4, $5)",
        key_id,
        organization_id,
        role,
        _hash(key),
        label,
    )
    return key_id, key


async def revoke_key(pool: asyncpg.Pool, organization_id: str, key_id: str) -> bool:
    """Revoke one of the organisation's keys; False when it has no such live key."""
    status = await pool.execute(
        "UPDATE api_keys SET revoked_at = now()"
        " WHERE key_id = $1 AND organization_id = $2 AND revoked_at IS NULL",
        key_id,
        organization_id,
    )
    return status.endswith(" 1")


async def list_keys(pool: asyncpg.Pool, organization_id: str) -> list[KeyInfo]:
    rows = await pool.fetch(
        "SELECT key_id, organization_id, role, label, created_at, revoked_at FROM api_keys"
        " WHERE organization_id = $1 ORDER BY created_at",
        organization_id,
    )
    return [KeyInfo(**dict(r)) for r in rows]


async def authenticate(pool: asyncpg.Pool, key: str) -> Caller | None:
    """The caller a presented key stands for; None for a malformed, unknown or revoked key."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != _PREFIX or not key_id or not secret:
        return None
    row = await pool.fetchrow(
        "SELECT organization_id, role, key_hash FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL",
        key_id,
    )
    if row is None or not hmac.compare_digest(bytes(row["key_hash"]), _hash(key)):
        return None
    return Caller(organization_id=row["organization_id"], role=row["role"], key_id=key_id)
