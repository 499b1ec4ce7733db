"""CatchballWorkflow and WisdomWorkflow logic on the time-skipping test server, with stand-in activities
registered under the contracts' names (the LLM path itself is tested in worker-openai)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from antifragile_core.contracts.collective import (
    RUN_CATCHBALL,
    SYNTHESIZE_WISDOM,
    Alignment,
    AttributedPoint,
    CatchballRefinement,
    CatchballRequest,
    WisdomRequest,
    WisdomSynthesis,
)
from antifragile_core.contracts.operations import (
    SEND_SCHEDULED_NOTIFICATION,
    Notification,
    NotificationReceipt,
    NotificationTarget,
)
from antifragile_core.contracts.usage import TokenUsage
from antifragile_core.queues import DEFAULT_QUEUE, OPENAI_QUEUE
from antifragile_workflows.catchball import CatchballAnswer, CatchballSession, CatchballWorkflow, Participant
from antifragile_workflows.wisdom import ContributionIn, WisdomRound, WisdomWorkflow
from pydantic import ValidationError
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

PEOPLE = [Participant(name="alice", level="board"), Participant(name="bob", level="operations")]


class StandIns:
    """run_catchball appends the feedback to the statement; drafted answers agree."""

    def __init__(self) -> None:
        self.catchball: list[CatchballRequest] = []
        self.wisdom: list[WisdomRequest] = []
        self.notices: list[Notification] = []
        self.refuse_after: int | None = None

    @SEND_SCHEDULED_NOTIFICATION.implement
    async def send_scheduled_notification(self, notice: Notification) -> NotificationReceipt:
        self.notices.append(notice)
        return NotificationReceipt(
            idempotency_key=notice.idempotency_key, channel=notice.channel, delivered=True, duplicate=False
        )

    @RUN_CATCHBALL.implement
    async def run_catchball(self, request: CatchballRequest) -> CatchballRefinement:
        self.catchball.append(request)
        if self.refuse_after is not None and len(self.catchball) > self.refuse_after:
            raise ApplicationError("organisation budget exhausted", type="BudgetExceeded", non_retryable=True)
        drafted = None if request.feedback is not None else f"{request.participant} would accept"
        return CatchballRefinement(
            refined_statement=f"{request.statement} +{request.feedback or drafted}",
            changes=[],
            open_questions=[],
            alignment=Alignment(score=0.9, agreed=drafted is not None, assessment="ok"),
            drafted_feedback=drafted,
            model="stand-in",
            usage=TokenUsage(),
        )

    @SYNTHESIZE_WISDOM.implement
    async def synthesize_wisdom(self, request: WisdomRequest) -> WisdomSynthesis:
        self.wisdom.append(request)
        ids = [c.contribution_id for c in request.contributions]
        point = AttributedPoint(point="do it", contribution_ids=ids)
        return WisdomSynthesis(
            themes=[],
            consensus=[point],
            dissent=[],
            recommendation=point,
            confidence=0.5,
            model="stand-in",
            usage=TokenUsage(),
        )


@asynccontextmanager
async def workers(client: Client, prefix: str) -> AsyncIterator[StandIns]:
    stand_ins = StandIns()
    async with (
        Worker(
            client,
            task_queue=prefix + DEFAULT_QUEUE,
            workflows=[CatchballWorkflow, WisdomWorkflow],
            activities=[stand_ins.send_scheduled_notification],
        ),
        Worker(
            client,
            task_queue=prefix + OPENAI_QUEUE,
            activities=[stand_ins.run_catchball, stand_ins.synthesize_wisdom],
        ),
    ):
        yield stand_ins


async def start(client: Client, prefix: str, workflow: Any, arg: Any) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        workflow, arg, id=f"wf-{uuid.uuid4().hex}", task_queue=prefix + DEFAULT_QUEUE
    )


async def turn_of(handle: WorkflowHandle[Any, Any], name: str) -> None:
    for _ in range(100):
        turn = await handle.query(CatchballWorkflow.whose_turn)
        if turn is not None and turn.name == name:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {name}'s turn")


async def answer(handle: WorkflowHandle[Any, Any], name: str, feedback: str | None, agree: bool) -> None:
    await turn_of(handle, name)
    await handle.execute_update(
        CatchballWorkflow.answer, CatchballAnswer(participant=name, feedback=feedback, agree=agree)
    )


def session(org_id: str, rounds: int) -> CatchballSession:
    return CatchballSession(
        organization_id=org_id,
        statement="Grow.",
        participants=PEOPLE,
        max_rounds=rounds,
        answer_timeout_seconds=600,
    )


async def test_catchball_ends_on_the_first_round_everyone_agrees_and_bare_agreement_costs_no_call(
    time_skipping_env: WorkflowEnvironment, fleet_prefix: str, org_id: str
) -> None:
    client = time_skipping_env.client
    async with workers(client, fleet_prefix) as stand_ins:
        handle = await start(client, fleet_prefix, CatchballWorkflow.run, session(org_id, rounds=5))
        await answer(handle, "alice", "Say where.", agree=False)
        await answer(handle, "bob", None, agree=True)
        await answer(handle, "alice", None, agree=True)
        await answer(handle, "bob", "Fine, with a date.", agree=True)
        outcome = await handle.result()
        assert (await handle.query(CatchballWorkflow.state)).status == "agreed"

    assert outcome.agreed and outcome.rounds == 2
    assert outcome.statement == "Grow. +Say where. +Fine, with a date."
    assert [r.feedback for r in stand_ins.catchball] == ["Say where.", "Fine, with a date."]
    assert [t.participant for t in stand_ins.catchball[1].history] == ["alice", "bob", "alice"]


async def test_catchball_stops_after_max_rounds_without_agreement(
    time_skipping_env: WorkflowEnvironment, fleet_prefix: str, org_id: str
) -> None:
    client = time_skipping_env.client
    async with workers(client, fleet_prefix):
        handle = await start(client, fleet_prefix, CatchballWorkflow.run, session(org_id, rounds=1))
        await answer(handle, "alice", "No.", agree=False)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                CatchballWorkflow.answer, CatchballAnswer(participant="alice", agree=True)
            )
        await answer(handle, "bob", None, agree=True)
        outcome = await handle.result()
        assert (await handle.query(CatchballWorkflow.state)).status == "max_rounds"
    assert not outcome.agreed and outcome.rounds == 1


async def test_catchball_nobody_answers_ends_no_response_never_agreed(
    time_skipping_env: WorkflowEnvironment, fleet_prefix: str, org_id: str
) -> None:
    """The stand-in model says every drafted answer agrees; the session still must not end agreed."""
    client = time_skipping_env.client
    async with workers(client, fleet_prefix) as stand_ins:
        handle = await start(client, fleet_prefix, CatchballWorkflow.run, session(org_id, rounds=3))
        outcome = await handle.result()
    assert outcome.status == "no_response" and not outcome.agreed and outcome.rounds == 1
    assert outcome.ai_drafted_turns == 2
    assert all(r.turn.ai_drafted and not r.turn.agreed for r in outcome.turns)
    assert [r.feedback for r in stand_ins.catchball] == [None, None]


async def test_each_turn_is_announced_when_it_opens_by_an_answer_or_a_deadline(
    time_skipping_env: WorkflowEnvironment, fleet_prefix: str, org_id: str
) -> None:
    client = time_skipping_env.client
    hooks = {
        p.name: NotificationTarget(channel="webhook", webhook_url=f"http://hooks.test/{p.name}")
        for p in PEOPLE
    }
    notified = session(org_id, rounds=1).model_copy(update={"notify": hooks})
    async with workers(client, fleet_prefix) as stand_ins:
        handle = await start(client, fleet_prefix, CatchballWorkflow.run, notified)
        outcome = await handle.result()  # nobody answers: bob's turn is opened by alice's deadline
    assert outcome.status == "no_response"
    assert [str(n.webhook_url).rsplit("/", 1)[1] for n in stand_ins.notices] == ["alice", "bob"]
    assert len({n.idempotency_key for n in stand_ins.notices}) == 2
    assert all("Grow." in n.body and "link you were sent" in n.body for n in stand_ins.notices)


async def test_catchball_one_silent_participant_keeps_it_from_agreeing(
    time_skipping_env: WorkflowEnvironment, fleet_prefix: str, org_id: str
) -> None:
    """Alice agrees each round; Bob never answers, so no round is every participant's own agreement."""
    client = time_skipping_env.client
    async with workers(client, fleet_prefix):
        handle = await start(client, fleet_prefix, CatchballWorkflow.run, session(org_id, rounds=2))
        for _ in range(2):
            await answer(handle, "alice", None, agree=True)
            await turn_of(handle, "bob")
            await time_skipping_env.sleep(601)  # past his deadline
        outcome = await handle.result()
    assert outcome.status == "max_rounds" and not outcome.agreed and outcome.rounds == 2
    assert [(t.turn.participant, t.turn.ai_drafted, t.turn.agreed) for t in outcome.turns] == [
        ("alice", False, True),
        ("bob", True, False),
        ("alice", False, True),
        ("bob", True, False),
    ]


def test_an_answer_must_say_something_and_participants_are_unique(org_id: str) -> None:
    with pytest.raises(ValidationError):
        CatchballAnswer(participant="alice")
    with pytest.raises(ValidationError):
        CatchballSession(organization_id=org_id, statement="s", participants=[PEOPLE[0], PEOPLE[0]])


async def test_wisdom_synthesises_what_came_in_by_the_deadline(
    time_skipping_env: WorkflowEnvironment, fleet_prefix: str, org_id: str
) -> None:
    client = time_skipping_env.client
    round_ = WisdomRound(organization_id=org_id, question="Where?", quorum=5, deadline_seconds=3600)
    async with workers(client, fleet_prefix) as stand_ins:
        handle = await start(client, fleet_prefix, WisdomWorkflow.run, round_)
        await handle.execute_update(WisdomWorkflow.contribute, ContributionIn(author="ana", text="Riga."))
        outcome = await handle.result()  # time skips to the deadline
        empty = await (await start(client, fleet_prefix, WisdomWorkflow.run, round_)).result()

    assert not outcome.quorum_reached and outcome.synthesis is not None
    assert [c.contribution_id for c in stand_ins.wisdom[0].contributions] == ["c1"]
    assert empty.synthesis is None and empty.contributions == [] and len(stand_ins.wisdom) == 1


async def test_catchball_that_cannot_refine_ends_failed_and_keeps_its_turns(
    time_skipping_env: WorkflowEnvironment, fleet_prefix: str, org_id: str
) -> None:
    client = time_skipping_env.client
    async with workers(client, fleet_prefix) as stand_ins:
        stand_ins.refuse_after = 1
        handle = await start(client, fleet_prefix, CatchballWorkflow.run, session(org_id, rounds=2))
        await answer(handle, "alice", "Grow in the north.", agree=False)
        await turn_of(handle, "bob")
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                CatchballWorkflow.answer, CatchballAnswer(participant="bob", feedback="Slower.", agree=False)
            )
        outcome = await handle.result()
        state = await handle.query(CatchballWorkflow.state)

    assert outcome.error == "BudgetExceeded: organisation budget exhausted"
    assert not outcome.agreed and [t.turn.participant for t in outcome.turns] == ["alice"]
    assert outcome.statement == "Grow. +Grow in the north."
    assert state.status == "failed" and state.whose_turn is None
