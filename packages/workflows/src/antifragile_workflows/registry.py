"""Every workflow type; the default-queue worker hosts them all."""

from .documents import DocumentProcessingWorkflow

ALL_WORKFLOWS: tuple[type, ...] = (DocumentProcessingWorkflow,)
