"""Every workflow type; the default-queue worker hosts them all."""

from .catchball import CatchballWorkflow
from .competitors import CompetitorMonitoringWorkflow
from .costs import OrganizationCostsWorkflow
from .documents import DocumentProcessingWorkflow
from .maintenance import MaintenanceWorkflow
from .onboarding import OrganizationOnboardingWorkflow
from .research import ResearchWorkflow
from .training import ManagementWorkflow, TrainingWorkflow
from .wisdom import WisdomWorkflow

ALL_WORKFLOWS: tuple[type, ...] = (
    DocumentProcessingWorkflow,
    ResearchWorkflow,
    CatchballWorkflow,
    WisdomWorkflow,
    OrganizationCostsWorkflow,
    CompetitorMonitoringWorkflow,
    MaintenanceWorkflow,
    OrganizationOnboardingWorkflow,
    TrainingWorkflow,
    ManagementWorkflow,
)
