"""The worker's async object store, used from synchronous activity threads."""

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from antifragile_core.storage import ObjectStore

T = TypeVar("T")


class SyncStore:
    """Runs each store call on the worker's event loop: one store (and S3 client) serves all threads."""

    def __init__(self, store: ObjectStore, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._loop = loop

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def get(self, key: str) -> bytes:
        return self._run(self._store.get(key))

    def put(self, key: str, data: bytes) -> None:
        self._run(self._store.put(key, data))

    def exists(self, key: str) -> bool:
        return self._run(self._store.exists(key))

    def keys(self, prefix: str) -> list[str]:
        """Keys under the folder `prefix` (a trailing '/' is implied, so 'a/b' never matches 'a/bc')."""
        return [info.key for info in self._run(self._store.list_objects(prefix.rstrip("/") + "/"))]

    def upload_dir(self, local: Path, prefix: str) -> None:
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            self.put(f"{prefix}/{path.relative_to(local).as_posix()}", path.read_bytes())

    def download_dir(self, prefix: str, local: Path) -> int:
        """Copy every object under `prefix` into `local`; returns how many there were."""
        keys = self.keys(prefix)
        for key in keys:
            path = local / key.removeprefix(prefix.rstrip("/") + "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.get(key))
        return len(keys)

    def delete_prefix(self, prefix: str) -> None:
        for key in self.keys(prefix):
            self._run(self._store.delete(key))
