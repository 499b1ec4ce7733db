"""Which workflow types stay on the build they started on (Worker Versioning), argued once.

PINNED — a run keeps running on its starting build of worker-default until it ends, however many
releases come meanwhile; that build's workers stay up until `antifragile fleet retire` finds none left.
It is for runs that wait on people or on a GPU for hours to days, where a release is likely to land
mid-run and a change of their code would strand them: catchball (answers over days), wisdom rounds
(contributions until a quorum or deadline), training jobs (train -> evaluate -> record over hours).

AUTO_UPGRADE — the worker's default (antifragile_core.versioning) for every other type: documents,
onboarding (a parent of short children), research, maintenance, competitor scans and management calls
finish in minutes, or continue-as-new; pinning them would keep old builds alive for nothing. They move to
the current build at their next workflow task, which the replay test (tests/test_replay.py) keeps safe:
a change to their command order needs `workflow.patched`.
"""

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from antifragile_core.versioning import VERSIONED_PROCESS

# Temporal refuses a behaviour from an unversioned worker (`antifragile dev`, tests): declared only when
# this process's workers are versioned (WORKER_VERSIONING, as in the images).
PINNED = VersioningBehavior.PINNED if VERSIONED_PROCESS else VersioningBehavior.UNSPECIFIED
