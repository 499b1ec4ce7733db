"""Object keys: every key lives under its organisation and can never climb out of it."""

import re

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
