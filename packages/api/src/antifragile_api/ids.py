"""Public ids of batches and sessions, and the Temporal workflow ids they stand for.

The workflow id embeds the caller's organisation, so another organisation's id resolves to a workflow
that does not exist: a 404 by construction, with no lookup that could forget the check.
"""

import re
import secrets

from .problems import Problem

_PUBLIC_ID = re.compile(r"^[0-9a-f]{16}$")


def new_id() -> str:
    return secrets.token_hex(8)


def workflow_id(kind: str, organization_id: str, public_id: str) -> str:
    """`<kind>-<org>-<id>`; an id that is not 16 hex digits is refused as not found."""
    if not _PUBLIC_ID.match(public_id):
        raise Problem(404, f"no {kind} {public_id!r} in this organisation")
    return f"api-{kind}-{organization_id}-{public_id}"
