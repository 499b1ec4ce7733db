"""Multipart uploads read part by part off the request stream, each file's size checked as its bytes
arrive: an oversized file is refused before the rest of the request is read, never spooled to disk.

The object store writes whole objects, so one file at a time is held in memory, at most
MAX_DOCUMENT_BYTES of it.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from antifragile_core.errors import DOCUMENT_TOO_LARGE, INVALID_INPUT
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .problems import Problem

MAX_FILES = 100


@dataclass
class UploadedFile:
    filename: str
    data: bytearray = field(default_factory=bytearray)


@dataclass
class _Reader:
    max_bytes: int
    done: list[UploadedFile] = field(default_factory=list)
    current: UploadedFile | None = None
    headers: dict[bytes, bytes] = field(default_factory=dict)
    _field: bytes = b""
    _value: bytes = b""
    files_seen: int = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.headers = {}
        filename = options.get(b"filename")
        if filename is None:
            self.current = None  # a plain form field: ignored
            return
        name = PurePosixPath(filename.decode("utf-8", "replace").replace("\\", "/")).name.strip()
        if not name or len(name) > 255:
            raise Problem(422, "each file needs a name of 1 to 255 characters", INVALID_INPUT)
        self.files_seen += 1
        if self.files_seen > MAX_FILES:
            raise Problem(422, f"at most {MAX_FILES} files per request", INVALID_INPUT)
        self.current = UploadedFile(name)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.current is None:
            return
        self.current.data += data[start:end]
        if len(self.current.data) > self.max_bytes:
            raise Problem(
                413,
                f"{self.current.filename} is larger than {self.max_bytes} bytes (MAX_DOCUMENT_BYTES); "
                "split it or ask the operator to raise the limit",
                DOCUMENT_TOO_LARGE,
            )

    def on_part_end(self) -> None:
        if self.current is not None:
            self.done.append(self.current)
            self.current = None


async def read_files(
    content_type: str, body: AsyncIterator[bytes], max_bytes: int
) -> AsyncIterator[UploadedFile]:
    """Yield each file of a multipart/form-data body as soon as its part ends."""
    media, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise Problem(415, "send the files as multipart/form-data", INVALID_INPUT)
    reader = _Reader(max_bytes)
    parser = MultipartParser(boundary, callbacks=_callbacks(reader))
    try:
        async for chunk in body:
            parser.write(chunk)
            while reader.done:
                yield reader.done.pop(0)
        parser.finalize()
    except MultipartParseError as err:
        raise Problem(422, f"the multipart body is malformed: {err}", INVALID_INPUT) from None
    for file in reader.done:
        yield file


def _callbacks(reader: _Reader) -> dict[str, object]:
    names = (
        "on_header_field",
        "on_header_value",
        "on_header_end",
        "on_headers_finished",
        "on_part_data",
        "on_part_end",
    )
    return {name: getattr(reader, name) for name in names}
