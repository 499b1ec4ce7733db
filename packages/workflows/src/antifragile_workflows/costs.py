"""OrganizationCostsWorkflow: the cost report as a workflow, so the CLI needs only a Temporal client."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.costs import GET_ORGANIZATION_COSTS, CostQuery, CostReport

from .calls import call


@workflow.defn
class OrganizationCostsWorkflow:
    @workflow.run
    async def run(self, query: CostQuery) -> CostReport:
        return await call(GET_ORGANIZATION_COSTS, query)
