"""Every workflow type; the default-queue worker hosts them all."""

from .documents import DocumentProcessingWorkflow
from .training import ManagementWorkflow, TrainingWorkflow

ALL_WORKFLOWS: tuple[type, ...] = (DocumentProcessingWorkflow, TrainingWorkflow, ManagementWorkflow)

