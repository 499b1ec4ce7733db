"""Participant links: only our signature, only until they expire."""

import time

import pytest
from antifragile_api.links import LinkError, ParticipantGrant, grant_for, sign, verify

SECRET = b"s3cret-for-links"


def test_a_link_names_one_participant_of_one_session() -> None:
    token = grant_for(SECRET, "catchball", "0123456789abcdef", "org-a", "Ana", hours=1)
    grant = verify(SECRET, token)
    assert (grant.kind, grant.session_id, grant.organization_id, grant.participant) == (
        "catchball",
        "0123456789abcdef",
        "org-a",
        "Ana",
    )


def test_forged_tampered_and_expired_links_are_refused() -> None:
    token = grant_for(SECRET, "wisdom", "0123456789abcdef", "org-a", "Ana", hours=1)
    with pytest.raises(LinkError, match="not valid"):
        verify(b"another-secret", token)
    payload, signature = token.split(".")
    other = grant_for(SECRET, "wisdom", "0123456789abcdef", "org-a", "Bo", hours=1).split(".")[0]
    with pytest.raises(LinkError, match="not valid"):
        verify(SECRET, f"{other}.{signature}")  # Bo's payload under Ana's signature
    with pytest.raises(LinkError, match="not valid"):
        verify(SECRET, payload)
    expired = ParticipantGrant(
        kind="wisdom",
        session_id="0123456789abcdef",
        organization_id="org-a",
        participant="Ana",
        expires=int(time.time()) - 1,
    )
    with pytest.raises(LinkError, match="expired"):
        verify(SECRET, sign(SECRET, expired))
