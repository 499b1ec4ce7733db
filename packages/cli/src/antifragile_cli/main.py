"""`antifragile`: the operator command. Each module adds its own subcommands."""

import argparse
import asyncio
import inspect
import sys
import traceback
from typing import NoReturn

from antifragile_core.logs import configure_logging
from antifragile_core.runtime import exit_now
from antifragile_core.settings import Settings
from pydantic import ValidationError
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from . import collective, demo, documents, fleet, orgs, schedules, stack, training
from .failures import report_failure

COMMAND_MODULES = (stack, demo, documents, schedules, training, collective, orgs, fleet)
"""Each module exposes `register(subparsers)`; a subcommand's handler is `args.handler(args, settings)`."""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="antifragile", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return root


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the chosen subcommand; a failed operation or invalid input is reported as its error type and
    message (no stack trace), once here rather than in every handler."""
    try:
        result = args.handler(args, settings)
        if inspect.isawaitable(result):
            result = await result
    except (WorkflowFailureError, ApplicationError, ValidationError) as err:
        return report_failure(err)
    return result or 0


def main(argv: list[str] | None = None) -> None:
    """Run one command; ends with SystemExit carrying its exit code."""
    args = parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    raise SystemExit(asyncio.run(run_command(args, settings)))


def console() -> NoReturn:
    """The `antifragile` executable: `main`, then exit without interpreter finalization, which can abort
    a process that used a Temporal client (see antifragile_core.runtime.exit_now)."""
    try:
        main()
    except SystemExit as exit_:
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
        code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    exit_now(code)
