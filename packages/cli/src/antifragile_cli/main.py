"""`antifragile`: the operator command. Each module adds its own subcommands."""

import argparse
import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from antifragile_core.logs import configure_logging
from antifragile_core.settings import Settings

from . import collective, demo, schedules, stack, training

COMMAND_MODULES = (stack, demo, schedules, training, collective)
"""Each module exposes `register(subparsers)`; a subcommand's handler is `args.handler(args, settings)`."""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="antifragile", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    handler: Callable[..., Any] = args.handler
    result = handler(args, settings)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    raise SystemExit(result or 0)
