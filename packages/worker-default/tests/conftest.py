"""worker-default fixtures: one migrated pool per session, Resources on either store, activities run
through Temporal's ActivityEnvironment, staged uploads, and sample documents built in the test."""

import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import docx
import openpyxl
import pytest
import pytest_asyncio
from antifragile_core.contracts.base import ActivityContract
from antifragile_core.contracts.documents import DocumentUpload
from antifragile_core.settings import Settings
from antifragile_core.storage import ObjectStore, open_store, org_key
from antifragile_worker_default.main import all_activities
from antifragile_worker_default.resources import Resources
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

MakeResources = Callable[..., AbstractAsyncContextManager[Resources]]


@pytest.fixture
def s3_overrides(s3_endpoint: str, fleet_prefix: str) -> dict[str, Any]:
    """Settings overrides for the moto S3 server, with a bucket of this test's own."""
    return {
        "s3_bucket": f"test-{fleet_prefix.rstrip('-')}",
        "s3_endpoint_url": s3_endpoint,
        "aws_access_key_id": "test",
        "aws_secret_access_key": "test",
    }


@pytest.fixture(params=["directory", "s3"])
def store_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Parametrises a test over both object stores: pass these to `make_resources`."""
    return {} if request.param == "directory" else request.getfixturevalue("s3_overrides")


@pytest.fixture
def make_resources(
    make_settings: Callable[..., Settings], db_pool: asyncpg.Pool, temporal_client: Client
) -> MakeResources:
    """`async with make_resources(**settings_overrides) as res:` opens the store the settings name."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Resources]:
        settings = make_settings(**overrides)
        async with open_store(settings) as store:
            yield Resources(settings=settings, pool=db_pool, store=store, client=temporal_client)

    return make


@pytest_asyncio.fixture
async def resources(make_resources: MakeResources) -> AsyncIterator[Resources]:
    """Resources on the directory store with default settings."""
    async with make_resources() as res:
        yield res


@pytest.fixture
def run_activity() -> Callable[[Resources, ActivityContract[Any, Any], Any], Awaitable[Any]]:
    """Run the worker's implementation of a contract in an ActivityEnvironment (no server involved)."""

    async def run(res: Resources, contract: ActivityContract[Any, Any], arg: Any) -> Any:
        by_name = {fn.__temporal_activity_definition.name: fn for fn in all_activities(res)}  # type: ignore[attr-defined]
        return await ActivityEnvironment().run(by_name[contract.name], arg)

    return run


@pytest.fixture
def stage() -> Callable[[ObjectStore, str, str, bytes], Awaitable[DocumentUpload]]:
    """Put bytes where uploads are staged (`orgs/<org>/uploads/<id>`) and describe the upload."""

    async def put(store: ObjectStore, org: str, filename: str, data: bytes) -> DocumentUpload:
        key = org_key(org, "uploads", uuid.uuid4().hex)
        await store.put(key, data)
        return DocumentUpload(organization_id=org, filename=filename, upload_key=key)

    return put


class SampleDocuments:
    """Real files made by the libraries that write them, so extraction is tested on genuine output."""

    @staticmethod
    def pdf(pages: list[str], title: str | None = None) -> bytes:
        pdf = FPDF()
        if title:
            pdf.set_title(title)
        pdf.set_font("helvetica", size=12)
        for text in pages:
            pdf.add_page()
            pdf.multi_cell(0, 8, text)
        return bytes(pdf.output())

    @staticmethod
    def scan(pages: list[list[str] | str]) -> bytes:
        """A PDF as a scanner makes it: a list of lines is drawn as pixels on an image-only page at
        200 dpi (Pillow's built-in font, 12 pt); a str becomes an ordinary page with a text layer."""
        font = ImageFont.load_default(size=33)
        pdf = FPDF()
        pdf.set_font("helvetica", size=12)
        for page in pages:
            pdf.add_page()
            if isinstance(page, str):
                pdf.multi_cell(0, 8, page)
                continue
            image = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
            draw = ImageDraw.Draw(image)
            for row, line in enumerate(page):
                draw.text((160, 200 + 60 * row), line, font=font, fill=0)
            pdf.image(image, x=0, y=0, w=pdf.w, h=pdf.h)
        return bytes(pdf.output())

    @staticmethod
    def raw_pdf(*objects: bytes) -> bytes:
        """A PDF written object by object (numbered from 1; the first is the catalog), with a true xref
        table: for page trees no writing library would produce."""
        out = bytearray(b"%PDF-1.7\n")
        offsets = []
        for number, body in enumerate(objects, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
        return bytes(out)

    @classmethod
    def repeated_page_pdf(cls, outer: int, inner: int) -> bytes:
        """A page tree that lists one page object `outer` x `inner` times (a few KB for 10,000 pages)."""
        content = b"BT /F1 12 Tf 72 720 Td (Repeated page body) Tj ET"
        return cls.raw_pdf(
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b"3 0 R " * outer, outer * inner),
            b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>" % (b"4 0 R " * inner, inner),
            b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 612 792] /Contents 6 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        )

    @classmethod
    def encrypted_pdf(cls, text: str = "secret plans") -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(cls.pdf([text]))))
        writer.encrypt("a-password", algorithm="RC4-128")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    @staticmethod
    def docx(
        paragraphs: list[str],
        *,
        title: str | None = None,
        heading: str | None = None,
        table: list[list[str]] | None = None,
        page_breaks: int = 0,
    ) -> bytes:
        document = docx.Document()
        if title is not None:
            document.core_properties.title = title
        if heading is not None:
            document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)
        for _ in range(page_breaks):
            document.add_page_break()
            document.add_paragraph("after the break")
        if table:
            grid = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    grid.cell(r, c).text = value
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    @staticmethod
    def xlsx(sheets: dict[str, list[list[Any]]], title: str | None = None) -> bytes:
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for name, rows in sheets.items():
            sheet = workbook.create_sheet(name)
            for row in rows:
                sheet.append(row)
        if title is not None:
            workbook.properties.title = title
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()


@pytest.fixture(scope="session")
def samples() -> SampleDocuments:
    return SampleDocuments()
