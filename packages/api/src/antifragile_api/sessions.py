"""Catchball and wisdom sessions started through the API: each participant gets their own signed link,
and their answers reach the workflow as updates, so they learn at once whether an answer was taken."""

import asyncio
import contextlib
import logging
from typing import Literal

from antifragile_core.contracts.base import Model
from antifragile_core.contracts.collective import Contribution, Name, ShortText
from antifragile_core.contracts.operations import NotificationTarget
from antifragile_workflows.catchball import (
    CatchballAnswer,
    CatchballSession,
    CatchballState,
    CatchballWorkflow,
    Participant,
)
from antifragile_workflows.wisdom import (
    ContributionIn,
    WisdomOutcome,
    WisdomRound,
    WisdomState,
    WisdomWorkflow,
)
from pydantic import Field, model_validator
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateStage

from . import notices
from .context import ApiContext
from .ids import new_id, workflow_id
from .links import ParticipantGrant, SessionKind

REJECTION_WAIT_SECONDS = 0.3
log = logging.getLogger(__name__)


class Notify(Model):
    notify: dict[str, NotificationTarget] = Field(
        default_factory=dict, description="participant name -> where to send their link when their turn opens"
    )

    def _check_names(self, names: list[str]) -> None:
        unknown = set(self.notify) - set(names)
        if unknown:
            raise ValueError(f"notify names non-participants: {', '.join(sorted(unknown))}")


class CatchballStart(Notify):
    statement: ShortText
    participants: list[Participant] = Field(min_length=1, max_length=50, description="in turn order")
    max_rounds: int = Field(default=3, ge=1, le=10)
    answer_minutes: float = Field(default=24 * 60, gt=0, description="each turn's deadline")

    @model_validator(mode="after")
    def _notify_participants(self) -> "CatchballStart":
        self._check_names([p.name for p in self.participants])
        return self


class WisdomStart(Notify):
    question: ShortText
    participants: list[Name] = Field(min_length=1, max_length=500)
    quorum: int = Field(ge=1, le=500)
    deadline_minutes: float = Field(default=24 * 60, gt=0)

    @model_validator(mode="after")
    def _notify_participants(self) -> "WisdomStart":
        self._check_names(self.participants)
        return self


class ParticipantLink(Model):
    participant: str
    url: str


class SessionStarted(Model):
    session_id: str
    links: list[ParticipantLink]


class WisdomView(Model):
    question: str
    state: WisdomState
    outcome: WisdomOutcome | None = None


class AnswerIn(Model):
    """A participant's answer to their turn: feedback, agreement, or both."""

    feedback: str | None = Field(default=None, min_length=1, max_length=20_000)
    agree: bool = False


class AnswerAccepted(Model):
    participant: str
    update_id: str


class ContributionText(Model):
    text: ShortText


class ParticipantView(Model):
    """What a participant's link shows: who they are and the session as it stands."""

    kind: SessionKind
    session_id: str
    participant: str
    status: Literal["open", "ended"]
    catchball: CatchballState | None = None
    wisdom: WisdomView | None = None


def _links(
    ctx: ApiContext, kind: SessionKind, org: str, session_id: str, names: list[str]
) -> list[ParticipantLink]:
    return [ParticipantLink(participant=n, url=ctx.participant_url(kind, org, session_id, n)) for n in names]


async def start_catchball(ctx: ApiContext, organization_id: str, start: CatchballStart) -> SessionStarted:
    session_id = new_id()
    session = CatchballSession(
        organization_id=organization_id,
        statement=start.statement,
        participants=start.participants,
        max_rounds=start.max_rounds,
        answer_timeout_seconds=start.answer_minutes * 60,
        notify=start.notify,
    )
    names = [p.name for p in session.participants]
    issued = _links(ctx, "catchball", organization_id, session_id, names)  # refuses before starting
    wf_id = workflow_id("catchball", organization_id, session_id)
    await ctx.client.start_workflow(CatchballWorkflow.run, session, id=wf_id, task_queue=ctx.queue)
    message = (
        f"You take part in a catchball on this statement:\n\n{session.statement}\n\n"
        "You will be told when your turn opens; give feedback or agree through this link."
    )
    for name, target in start.notify.items():
        await notices.send_link(ctx, "catchball", organization_id, session_id, wf_id, name, target, message)
    return SessionStarted(session_id=session_id, links=issued)


async def catchball_state(ctx: ApiContext, organization_id: str, session_id: str) -> CatchballState:
    handle = ctx.client.get_workflow_handle_for(
        CatchballWorkflow.run, workflow_id("catchball", organization_id, session_id)
    )
    return await handle.query(CatchballWorkflow.state)


async def start_wisdom(ctx: ApiContext, organization_id: str, start: WisdomStart) -> SessionStarted:
    session_id = new_id()
    round_ = WisdomRound(
        organization_id=organization_id,
        question=start.question,
        quorum=start.quorum,
        deadline_seconds=start.deadline_minutes * 60,
    )
    names = list(dict.fromkeys(start.participants))
    issued = _links(ctx, "wisdom", organization_id, session_id, names)
    wf_id = workflow_id("wisdom", organization_id, session_id)
    await ctx.client.start_workflow(
        WisdomWorkflow.run,
        round_,
        id=wf_id,
        task_queue=ctx.queue,
        memo={"question": start.question},  # the state query does not carry it; pages show it
    )
    message = f"Your answer is asked for in a wisdom round:\n\n{start.question}"
    for name, target in start.notify.items():
        await notices.send_link(ctx, "wisdom", organization_id, session_id, wf_id, name, target, message)
    return SessionStarted(session_id=session_id, links=issued)


async def wisdom_view(ctx: ApiContext, organization_id: str, session_id: str) -> WisdomView:
    handle = ctx.client.get_workflow_handle_for(
        WisdomWorkflow.run, workflow_id("wisdom", organization_id, session_id)
    )
    described = await handle.describe()
    view = WisdomView(
        question=await described.memo_value("question", ""), state=await handle.query(WisdomWorkflow.state)
    )
    if view.state.status == "done":
        view.outcome = await handle.result()
    return view


async def participant_view(ctx: ApiContext, grant: ParticipantGrant) -> ParticipantView:
    view = ParticipantView(
        kind=grant.kind, session_id=grant.session_id, participant=grant.participant, status="open"
    )
    wf_id = workflow_id(grant.kind, grant.organization_id, grant.session_id)
    described = await ctx.client.get_workflow_handle(wf_id).describe()
    if described.status != WorkflowExecutionStatus.RUNNING:
        view.status = "ended"
    if grant.kind == "catchball":
        view.catchball = await catchball_state(ctx, grant.organization_id, grant.session_id)
    else:
        view.wisdom = await wisdom_view(ctx, grant.organization_id, grant.session_id)
    return view


async def answer_turn(ctx: ApiContext, grant: ParticipantGrant, answer: AnswerIn) -> AnswerAccepted:
    """The link's participant answers; the workflow refuses it unless it is their turn. Returns once the
    workflow has accepted it: the refinement that follows (an LLM call) shows up in the session's state."""
    wf_id = workflow_id("catchball", grant.organization_id, grant.session_id)
    handle = ctx.client.get_workflow_handle_for(CatchballWorkflow.run, wf_id)
    update = await handle.start_update(
        CatchballWorkflow.answer,
        CatchballAnswer(participant=grant.participant, feedback=answer.feedback, agree=answer.agree),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    # A rejected update comes back already completed, its failure known: result() raises it at once. An
    # accepted one is still waiting for the refinement; stop waiting for it after a moment.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(update.result(), REJECTION_WAIT_SECONDS)
    return AnswerAccepted(participant=grant.participant, update_id=update.id)


async def contribute(ctx: ApiContext, grant: ParticipantGrant, text: ContributionText) -> Contribution:
    handle = ctx.client.get_workflow_handle_for(
        WisdomWorkflow.run, workflow_id("wisdom", grant.organization_id, grant.session_id)
    )
    return await handle.execute_update(
        WisdomWorkflow.contribute, ContributionIn(author=grant.participant, text=text.text)
    )
