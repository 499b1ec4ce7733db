"""Both object stores honour one contract: atomic puts, not-found, listing, org-scoped keys."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from antifragile_core.settings import Settings
from antifragile_core.storage import InvalidKey, ObjectNotFound, ObjectStore, open_store, org_key


@pytest.fixture(params=["directory", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    if request.param == "directory":
        settings = Settings(_env_file=None, storage_dir=tmp_path)  # type: ignore[call-arg]
    else:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            s3_bucket=f"test-{tmp_path.name.lower().replace('_', '-')}"[:60],
            s3_endpoint_url=request.getfixturevalue("s3_endpoint"),
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
    async with open_store(settings) as opened:
        yield opened


async def test_put_get_list_delete(store: ObjectStore) -> None:
    key = org_key("acme", "documents", "abc", "original")
    await store.put(key, b"hello")
    await store.put(org_key("acme", "documents", "def", "original"), b"x" * 10)
    await store.put(org_key("other", "documents", "abc", "original"), b"theirs")

    assert await store.get(key) == b"hello"
    assert await store.size(key) == 5
    assert await store.exists(key)
    listed = await store.list_objects("orgs/acme/")
    assert [(i.key, i.size) for i in listed] == [
        ("orgs/acme/documents/abc/original", 5),
        ("orgs/acme/documents/def/original", 10),
    ]
    await store.put(key, b"replaced")
    assert await store.get(key) == b"replaced"
    await store.delete(key)
    assert not await store.exists(key)
    with pytest.raises(ObjectNotFound):
        await store.get(key)
    with pytest.raises(ObjectNotFound):
        await store.size(key)


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs", "a/../../b", "", "sp ace", "a//b"])
async def test_unsafe_keys_are_refused(store: ObjectStore, bad: str) -> None:
    with pytest.raises(InvalidKey):
        await store.put(bad, b"x")


def test_org_key_cannot_escape() -> None:
    with pytest.raises(InvalidKey):
        org_key("acme", "..", "other")
    assert org_key("acme", "a", "b.txt") == "orgs/acme/a/b.txt"
