"""Every workflow type; the default-queue worker hosts them all."""

from .catchball import CatchballWorkflow
from .competitors import CompetitorMonitoringWorkflow
from .documents import DocumentProcessingWorkflow, DocumentWorkflow
from .maintenance import MaintenanceWorkflow
from .management import ManagementWorkflow
from .notices import NoticeWorkflow
from .onboarding import OrganizationOnboardingWorkflow
from .research import ResearchWorkflow
from .training import TrainingWorkflow
from .wisdom import WisdomWorkflow

ALL_WORKFLOWS: tuple[type, ...] = (
    DocumentProcessingWorkflow,
    DocumentWorkflow,
    ResearchWorkflow,
    CatchballWorkflow,
    WisdomWorkflow,
    CompetitorMonitoringWorkflow,
    MaintenanceWorkflow,
    OrganizationOnboardingWorkflow,
    TrainingWorkflow,
    ManagementWorkflow,
    NoticeWorkflow,
)
