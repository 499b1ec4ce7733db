"""WisdomWorkflow: collect people's answers to one question until a quorum or a deadline, then
synthesise them. Contributions arrive through the `contribute` update, one per author; each gets an
id that the synthesis must attribute its points to."""

import contextlib
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import Model, OrgId
    from antifragile_core.contracts.collective import (
        SYNTHESIZE_WISDOM,
        Contribution,
        Name,
        ShortText,
        WisdomRequest,
        WisdomSynthesis,
    )

from .calls import call
from .versioning import PINNED


class WisdomRound(Model):
    organization_id: OrgId
    question: ShortText
    quorum: int = Field(ge=1, le=500)
    deadline_seconds: float = Field(gt=0)
    model: str | None = None


class ContributionIn(Model):
    author: Name
    text: ShortText


class WisdomState(Model):
    status: Literal["collecting", "synthesizing", "done"]
    contributions: int
    quorum: int
    deadline: datetime | None
    authors: list[str]


class WisdomOutcome(Model):
    """The contributions and their synthesis; no synthesis when nobody contributed in time."""

    question: str
    contributions: list[Contribution]
    quorum_reached: bool
    synthesis: WisdomSynthesis | None


@workflow.defn(versioning_behavior=PINNED)  # waits hours to days: see versioning.py
class WisdomWorkflow:
    def __init__(self) -> None:
        self._contributions: list[Contribution] = []
        self._state = WisdomState(status="collecting", contributions=0, quorum=1, deadline=None, authors=[])

    @workflow.query
    def state(self) -> WisdomState:
        return self._state

    @workflow.update
    def contribute(self, contribution: ContributionIn) -> Contribution:
        """Add one author's answer; returns it with the id the synthesis will cite."""
        accepted = Contribution(
            contribution_id=f"c{len(self._contributions) + 1}",
            author=contribution.author,
            text=contribution.text,
        )
        self._contributions.append(accepted)
        self._state.contributions = len(self._contributions)
        self._state.authors.append(contribution.author)
        return accepted

    @contribute.validator
    def _validate_contribution(self, contribution: ContributionIn) -> None:
        if self._state.status != "collecting":
            raise ValueError("this wisdom round no longer takes contributions")
        if contribution.author in self._state.authors:
            raise ValueError(f"{contribution.author} has already contributed to this round")

    @workflow.run
    async def run(self, round_: WisdomRound) -> WisdomOutcome:
        self._state.quorum = round_.quorum
        self._state.deadline = workflow.now() + timedelta(seconds=round_.deadline_seconds)
        with contextlib.suppress(TimeoutError):  # at the deadline, synthesise what came in
            await workflow.wait_condition(
                lambda: len(self._contributions) >= round_.quorum,
                timeout=timedelta(seconds=round_.deadline_seconds),
            )
        self._state.status = "synthesizing"
        contributions = list(self._contributions)
        synthesis = None
        if contributions:
            synthesis = await call(
                SYNTHESIZE_WISDOM,
                WisdomRequest(
                    organization_id=round_.organization_id,
                    question=round_.question,
                    contributions=contributions,
                    model=round_.model,
                ),
            )
        self._state.status = "done"
        return WisdomOutcome(
            question=round_.question,
            contributions=contributions,
            quorum_reached=len(contributions) >= round_.quorum,
            synthesis=synthesis,
        )
