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
NOT_ACCEPTED = "NotAccepted"  # a workflow update its validator refused (not your turn, round closed)
INVALID_LINK = "InvalidLink"  # a participant link that is forged, tampered with or expired


def bad_input(error_type: str, message: str) -> ApplicationError:
    """A non-retryable error whose message tells the user what to fix."""
    return ApplicationError(message, type=error_type, non_retryable=True)
