"""S3 (or MinIO, or any S3 API) through aioboto3; one client held open for the store's lifetime."""

from contextlib import AsyncExitStack
from typing import Any, Self

import aioboto3
from botocore.exceptions import ClientError

from .base import ObjectInfo, ObjectNotFound
from .keys import check_key


class S3Store:
    """Objects in one bucket; the bucket is created on open if it does not exist yet."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self._session = aioboto3.Session(
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key, region_name=region
        )
        self._endpoint_url = endpoint_url
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def __aenter__(self) -> Self:
        self._client = await self._stack.enter_async_context(
            self._session.client("s3", endpoint_url=self._endpoint_url)
        )
        try:
            await self._client.head_bucket(Bucket=self.bucket)
        except ClientError as e:
            if _code(e) not in {"404", "NoSuchBucket", "NotFound"}:
                await self._stack.aclose()
                raise
            await self._client.create_bucket(Bucket=self.bucket)
        except BaseException:
            await self._stack.aclose()  # S3 unreachable: close the client, the caller may try again
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def put(self, key: str, data: bytes) -> None:
        await self._client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data)

    async def get(self, key: str) -> bytes:
        try:
            response = await self._client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as e:
            if _code(e) in {"404", "NoSuchKey"}:
                raise ObjectNotFound(key) from None
            raise
        async with response["Body"] as body:
            return await body.read()

    async def exists(self, key: str) -> bool:
        try:
            await self._client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as e:
            if _code(e) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    async def size(self, key: str) -> int:
        try:
            head = await self._client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as e:
            if _code(e) in {"404", "NoSuchKey", "NotFound"}:
                raise ObjectNotFound(key) from None
            raise
        return int(head["ContentLength"])

    async def delete(self, key: str) -> None:
        await self._client.delete_object(Bucket=self.bucket, Key=check_key(key))

    async def list_objects(self, prefix: str) -> list[ObjectInfo]:
        paginator = self._client.get_paginator("list_objects_v2")
        infos = []
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                infos.append(ObjectInfo(key=obj["Key"], size=obj["Size"], modified=obj["LastModified"]))
        return infos


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
