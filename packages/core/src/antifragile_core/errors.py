"""Error types for non-retryable failures, so callers can act on `ApplicationError.type`."""

from temporalio.exceptions import ApplicationError

INVALID_INPUT = "InvalidInput"
UNSUPPORTED_TYPE = "UnsupportedDocumentType"
ENCRYPTED_DOCUMENT = "EncryptedDocument"
CORRUPT_DOCUMENT = "CorruptDocument"
EMPTY_DOCUMENT = "EmptyDocument"
DOCUMENT_TOO_LARGE = "DocumentTooLarge"
NOT_FOUND = "NotFound"
NOT_READY = "NotReady"
LLM_NOT_CONFIGURED = "LLMNotConfigured"
LLM_REQUEST_REJECTED = "LLMRequestRejected"
BUDGET_EXCEEDED = "BudgetExceeded"
LLM_UNAVAILABLE = "LLMUnavailable"
"""Retryable: rate limited, endpoint error, timeout or connection failure."""
LLM_REFUSED = "LLMRefused"
"""The model declined to answer; asking again gets the same answer."""
LLM_TRUNCATED = "LLMTruncated"
"""The answer was cut off at its token limit even after the limit was raised."""
LLM_INVALID_OUTPUT = "LLMInvalidOutput"
"""The answer did not fit its schema, twice in a row."""
NOT_ACCEPTED = "NotAccepted"
"""A workflow update its validator refused (not your turn, the round has closed)."""
INVALID_LINK = "InvalidLink"
"""A participant link that is forged, tampered with or expired."""


def bad_input(error_type: str, message: str) -> ApplicationError:
    """A non-retryable error whose message tells the user what to fix."""
    return ApplicationError(message, type=error_type, non_retryable=True)
