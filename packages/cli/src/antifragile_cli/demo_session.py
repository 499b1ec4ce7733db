"""The demo's catchball through the HTTP API: a key for the demo organisation, a short two-person session,
and each participant's link, so the portal can be tried right after `antifragile demo`."""

import asyncio
import json
import urllib.request
from typing import Any

from antifragile_api import db
from antifragile_api.keys import create_key

from .stack import LocalStack

STATEMENT = "Northwind grows cold-chain revenue by 20% by 2028, starting with the Baltic states."
PARTICIPANTS = [{"name": "Ana", "level": "CEO"}, {"name": "Bo", "level": "VP Sales"}]


async def start_demo_catchball(stack: LocalStack, org: str) -> None:
    """Start the session through the API and print the sign-in key and the participants' links."""
    pool = await db.connect(stack.settings.postgres_dsn)
    try:
        _, key = await create_key(pool, org, "admin", "antifragile demo")
    finally:
        await pool.close()
    body = {"statement": STATEMENT, "participants": PARTICIPANTS, "max_rounds": 1}
    started = await asyncio.to_thread(_post, f"{stack.api_url}/v1/catchball", key, body)
    print(f"\nPortal: {stack.api_url} (sign in with the demo organisation's admin key: {key})")
    print(f"A short catchball, {started['session_id']}; each participant answers from their own link:")
    for link in started["links"]:
        print(f"  {link['participant']}: {link['url']}")


def _post(url: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)
