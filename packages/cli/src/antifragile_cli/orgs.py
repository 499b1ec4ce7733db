"""`antifragile orgs create-key | revoke-key | list-keys`: an organisation's API keys.

The operator's own PostgreSQL connection, not Temporal: keys belong to the API's tables. A new key is
printed once; only its hash is stored.
"""

import argparse
from typing import Any

from antifragile_api import db
from antifragile_api.keys import ROLES, create_key, list_keys, revoke_key
from antifragile_core.settings import Settings


def register(subparsers: Any) -> None:
    root = subparsers.add_parser("orgs", help="an organisation's API keys (for the HTTP API and portal)")
    sub = root.add_subparsers(dest="orgs_command", required=True)
    create = sub.add_parser("create-key", help="create a key; it is printed once")
    create.add_argument("org")
    create.add_argument("--role", choices=ROLES, default="member")
    create.add_argument("--label", default="", help="who or what the key is for")
    create.set_defaults(handler=create_org_key)
    revoke = sub.add_parser("revoke-key", help="revoke a key by its id")
    revoke.add_argument("org")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=revoke_org_key)
    listing = sub.add_parser("list-keys", help="list an organisation's keys (ids and roles, never the keys)")
    listing.add_argument("org")
    listing.set_defaults(handler=list_org_keys)


async def create_org_key(args: argparse.Namespace, settings: Settings) -> int:
    pool = await db.connect(settings.postgres_dsn)
    try:
        key_id, key = await create_key(pool, args.org, args.role, args.label)
    finally:
        await pool.close()
    print(f"key {key_id} ({args.role}) for {args.org}; store it now, it is not shown again:\n{key}")
    return 0


async def revoke_org_key(args: argparse.Namespace, settings: Settings) -> int:
    pool = await db.connect(settings.postgres_dsn)
    try:
        revoked = await revoke_key(pool, args.org, args.key_id)
    finally:
        await pool.close()
    if not revoked:
        print(f"error: {args.org} has no live key {args.key_id}")
        return 1
    print(f"revoked key {args.key_id} of {args.org}")
    return 0


async def list_org_keys(args: argparse.Namespace, settings: Settings) -> int:
    pool = await db.connect(settings.postgres_dsn)
    try:
        keys = await list_keys(pool, args.org)
    finally:
        await pool.close()
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "live"
        print(f"{k.key_id}  {k.role:<6}  {state:<22}  created {k.created_at:%Y-%m-%d %H:%M}  {k.label}")
    if not keys:
        print(f"{args.org} has no keys")
    return 0
