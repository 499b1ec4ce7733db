"""The FastAPI application: the JSON API under /v1, participant routes, the portal and health."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from antifragile_core.runtime import connect
from antifragile_core.settings import Settings
from antifragile_core.storage import open_store
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import db, portal, problems
from .context import ApiContext
from .routes import documents, health, insight, participants, sessions, training

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings) -> FastAPI:
    """The app for `settings`; its connections open and close with the app's lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await db.connect(settings.postgres_dsn)
        try:
            client = await connect(settings)
            async with open_store(settings) as store:
                app.state.context = ApiContext(settings=settings, pool=pool, client=client, store=store)
                yield
        finally:
            await pool.close()

    app = FastAPI(
        title="Antifragile Flow API",
        summary="An organisation's documents, research, catchball, wisdom and training jobs.",
        version="0.1.0",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_exception_handler(portal.SignInRequired, portal.to_sign_in)
    app.state.metrics = health.RequestMetrics()
    app.middleware("http")(app.state.metrics.middleware)
    for module in (documents, sessions, participants, training, insight, health, portal):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
