"""Object keys: every key lives under its organisation and can never climb out of it."""

import re

from ..errors import INVALID_INPUT, bad_input

_SEGMENT = re.compile(r"^[A-Za-z0-9._=-]{1,200}$")


class InvalidKey(ValueError):
    """A key segment that is empty, '..', absolute, or outside the safe alphabet."""


def check_key(key: str) -> str:
    """Return `key` if every segment is safe, else raise InvalidKey."""
    for segment in key.split("/"):
        if segment in {"", ".", ".."} or not _SEGMENT.match(segment):
            raise InvalidKey(f"unsafe object key segment {segment!r} in {key!r}")
    return key


def org_key(organization_id: str, *parts: str) -> str:
    """The key `orgs/<org>/<parts...>`, checked segment by segment."""
    return check_key("/".join(("orgs", organization_id, *parts)))


def checked_org_key(organization_id: str, key: str, what: str) -> str:
    """`key` if it is a safe object key under the organisation's prefix, else a non-retryable InvalidInput.

    A caller-supplied key must never reach another organisation's objects, and an unsafe one must fail as
    bad input here rather than as a retryable InvalidKey inside the store.
    """
    try:
        check_key(key)
    except InvalidKey:
        raise bad_input(INVALID_INPUT, f"{what} {key!r} is not a valid object key") from None
    prefix = org_key(organization_id) + "/"
    if not key.startswith(prefix):
        raise bad_input(
            INVALID_INPUT,
            f"{what} {key!r} is outside organisation {organization_id!r}; keep it under {prefix}",
        )
    return key
