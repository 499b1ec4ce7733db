"""The object store: one async interface, a directory and an S3 implementation."""

from .base import ObjectInfo, ObjectNotFound, ObjectStore
from .factory import open_store, open_store_when_up
from .keys import InvalidKey, checked_org_key, org_key

__all__ = [
    "InvalidKey",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "checked_org_key",
    "open_store",
    "open_store_when_up",
    "org_key",
]
