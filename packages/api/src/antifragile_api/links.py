"""Participant links: a signed, expiring token for one participant of one session, so a person can answer
their own turns without an account.

The token is `<payload>.<signature>`, both base64url: the payload is JSON (kind, session, organisation,
participant, expiry) and the signature an HMAC-SHA256 of it under API_SIGNING_SECRET.
"""

import base64
import hashlib
import hmac
import json
import time
from typing import Literal

from antifragile_core.contracts.base import Model

SessionKind = Literal["catchball", "wisdom"]


class LinkError(ValueError):
    """A token that is malformed, forged or expired."""


class ParticipantGrant(Model):
    """What a valid participant link allows: answering as `participant` in one session."""

    kind: SessionKind
    session_id: str
    organization_id: str
    participant: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def sign(secret: bytes, grant: ParticipantGrant) -> str:
    payload = _b64(json.dumps(grant.model_dump(), separators=(",", ":")).encode())
    return f"{payload}.{_sign(secret, payload)}"


def grant_for(
    secret: bytes, kind: SessionKind, session_id: str, organization_id: str, participant: str, hours: float
) -> str:
    """A token for `participant` of one session, valid for `hours`."""
    grant = ParticipantGrant(
        kind=kind,
        session_id=session_id,
        organization_id=organization_id,
        participant=participant,
        expires=int(time.time() + hours * 3600),
    )
    return sign(secret, grant)


def verify(secret: bytes, token: str) -> ParticipantGrant:
    """The grant a token carries, if its signature is ours and it has not expired."""
    payload, dot, signature = token.partition(".")
    if not dot or not hmac.compare_digest(_sign(secret, payload), signature):
        raise LinkError("this link is not valid: ask the organiser for a new one")
    try:
        grant = ParticipantGrant.model_validate_json(_unb64(payload))
    except ValueError:
        raise LinkError("this link is not valid: ask the organiser for a new one") from None
    if grant.expires < time.time():
        raise LinkError("this link has expired: ask the organiser for a new one")
    return grant
