"""How every command reports a failed operation: the error's type and message, no stack trace."""

import sys

from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError


def report_failure(err: Exception) -> int:
    """Print what went wrong as the activity (or validation) said it; returns the exit status."""
    cause: BaseException = err
    while isinstance(cause, WorkflowFailureError | ActivityError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError) and cause.type:
        print(f"error: {cause.type}: {cause.message}", file=sys.stderr)
    else:
        print(f"error: {cause}", file=sys.stderr)
    return 1
