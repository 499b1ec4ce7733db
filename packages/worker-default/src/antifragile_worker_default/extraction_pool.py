"""Extraction in child processes, so that no document's time, memory or crash costs the worker.

At most EXTRACT_PROCESSES documents are read at once, each in a child process of a small pool; the
event loop only watches the child's pipe, so heartbeats and the other uploads go on meanwhile. A child
past MAX_EXTRACT_SECONDS is killed and replaced without touching any other upload — the reason this is
not concurrent.futures' ProcessPoolExecutor, where one killed worker breaks the whole pool. RLIMIT_AS bounds
each child's memory; a child is retired after TASKS_PER_PROCESS documents or a memory failure, so nothing a
hostile file did to PDFium's state lives long. Children come from a forkserver with the parsers imported,
never forked from the worker itself, whose threads (Temporal's runtime) must not be forked.
"""

import asyncio
import multiprocessing
import re
import resource
import signal
from dataclasses import dataclass
from functools import cache
from multiprocessing.connection import Connection
from typing import Any

from antifragile_core.errors import DOCUMENT_TOO_LARGE, bad_input
from antifragile_core.settings import Settings
from temporalio.exceptions import ApplicationError

from .extract import Extracted, extract

TASKS_PER_PROCESS = 200
"""Documents a child reads before it is replaced; starting one costs ~0.5-1 s, reading a document ms."""

_ALLOCATION_FAILED = re.compile(r"bad_alloc|Insufficient memory|Failed to allocate|Cannot allocate memory")
"""How C++ libraries (onnxruntime, OpenCV) report the memory limit: as their own exceptions. The last is
ENOMEM's text: onnxruntime reports a thread whose stack the limit refused (pthread_create) that way."""

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])


@dataclass(frozen=True)
class Limits:
    """What one document may cost; each comes from the setting its error names."""

    max_bytes: int
    max_pages: int
    max_chars: int
    seconds: float
    memory_mb: int
    ocr: bool
    max_cells: int | None = None
    max_xml_depth: int = 256

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(
            max_bytes=settings.max_document_bytes,
            max_pages=settings.max_document_pages,
            max_chars=settings.max_document_chars,
            seconds=settings.max_extract_seconds,
            memory_mb=settings.max_extract_memory_mb,
            ocr=settings.ocr_enabled,
            max_cells=settings.max_xlsx_cells,
            max_xml_depth=settings.max_xml_depth,
        )


class ExtractionPool:
    """`await pool.extract(data)`: `extract` in a child process, within `limits`."""

    def __init__(self, limits: Limits, processes: int) -> None:
        self.limits = limits
        self._slots = asyncio.Semaphore(processes)
        self._idle: list[_Child] = []

    async def extract(self, data: bytes) -> Extracted:
        async with self._slots:
            child = self._idle.pop() if self._idle else await asyncio.to_thread(_Child, self.limits)
            reusable = False
            try:
                outcome = await self._ask(child, data)
                reusable = child.tasks < TASKS_PER_PROCESS and outcome[0] != "retire"
            finally:
                if reusable:
                    self._idle.append(child)
                else:
                    await asyncio.to_thread(child.stop)
        match outcome:
            case ("ok", Extracted() as extracted):
                return extracted
            case ("bad" | "retire", str(error_type), str(message)):
                raise bad_input(error_type, message)
            case ("error", str(description)):
                raise RuntimeError(f"extraction failed: {description}")
        raise AssertionError(f"unexpected outcome from the extraction process: {outcome!r}")

    async def _ask(self, child: "_Child", data: bytes) -> tuple[Any, ...]:
        """Send `data` to the child and wait for its outcome until the time limit."""
        child.tasks += 1
        try:
            await asyncio.to_thread(child.conn.send_bytes, data)
            if not await _readable(child.conn, self.limits.seconds):
                raise bad_input(
                    DOCUMENT_TOO_LARGE,
                    f"reading the document took over {self.limits.seconds:g} s, the limit "
                    "(MAX_EXTRACT_SECONDS); split it into smaller documents",
                )
            return await asyncio.to_thread(child.conn.recv)
        except (EOFError, BrokenPipeError):
            await asyncio.to_thread(child.process.join)
            raise RuntimeError(f"the extraction process died ({child.exit_reason()})") from None


def shared_pool(settings: Settings) -> ExtractionPool:
    """The process's one pool for these settings' limits: children are reused across uploads."""
    return _pool(Limits.from_settings(settings), settings.extract_processes)


@cache
def _pool(limits: Limits, processes: int) -> ExtractionPool:
    return ExtractionPool(limits, processes)


class _Child:
    """One extraction process and the worker's end of its pipe; ready when constructed, so its start-up
    (up to a second) never counts against a document's time limit."""

    def __init__(self, limits: Limits) -> None:
        self.conn, theirs = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_serve, args=(theirs, limits), daemon=True)
        self.process.start()
        theirs.close()
        self.tasks = 0
        try:
            self.conn.recv_bytes()
        except EOFError:
            self.stop()
            raise RuntimeError(f"the extraction process failed to start ({self.exit_reason()})") from None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()

    def exit_reason(self) -> str:
        code = self.process.exitcode
        return f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit {code}"


async def _readable(conn: Connection, seconds: float) -> bool:
    """Whether the child answered (or exited, closing the pipe) within `seconds`; waited for on the loop."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await asyncio.wait_for(ready, seconds)
        return True
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(conn.fileno())


def _serve(conn: Connection, limits: Limits) -> None:
    """The child: bound its address space, then read documents until the worker closes the pipe."""
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    conn.send_bytes(b"")  # ready
    while True:
        try:
            data = conn.recv_bytes()
        except EOFError:
            return
        outcome = _extract_one(data, limits)
        del data
        conn.send(outcome)
        if outcome[0] == "retire":
            return


def _extract_one(data: bytes, limits: Limits) -> tuple[Any, ...]:
    """("ok", Extracted), ("bad", type, message), ("retire", type, message) after a memory failure (the
    child's state is suspect then), or ("error", description) for a parser's bug, which is retried."""
    try:
        return (
            "ok",
            extract(
                data,
                limits.max_bytes,
                max_pages=limits.max_pages,
                max_chars=limits.max_chars,
                max_cells=limits.max_cells,
                max_xml_depth=limits.max_xml_depth,
                ocr=limits.ocr,
            ),
        )
    except ApplicationError as e:
        return ("bad", e.type, e.message)
    except Exception as e:
        if _out_of_memory_in(e):
            return _out_of_memory(limits)
        return ("error", f"{type(e).__name__}: {e}")


def _out_of_memory_in(error: BaseException | None) -> bool:
    """Whether `error` or an error it was raised from is a failed allocation (libraries wrap them)."""
    while error is not None:
        if isinstance(error, MemoryError) or _ALLOCATION_FAILED.search(str(error)):
            return True
        error = error.__cause__ or error.__context__
    return False


def _out_of_memory(limits: Limits) -> tuple[Any, ...]:
    return (
        "retire",
        DOCUMENT_TOO_LARGE,
        f"reading the document needs over {limits.memory_mb:,} MB of memory, the limit "
        "(MAX_EXTRACT_MEMORY_MB); split it into smaller documents",
    )
