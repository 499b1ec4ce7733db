"""`antifragile-api`: serve the API and portal with uvicorn on API_HOST:API_PORT."""

import uvicorn
from antifragile_core.logs import configure_logging
from antifragile_core.settings import Settings

from .app import create_app


def server(settings: Settings) -> uvicorn.Server:
    """The uvicorn server for `settings`. No access log: participant links carry their token in the path."""
    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
    )
    return uvicorn.Server(config)


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    server(settings).run()
