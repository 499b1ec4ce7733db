"""CatchballWorkflow: a strategic statement passed through participants, level by level, in rounds.

Each participant answers through the `answer` update while it is their turn; the update returns their
turn once the statement has been refined. A participant silent past the deadline gets an AI-drafted
response, marked as such, so one absence never stalls the discussion — but only people agree: a drafted
turn never counts as agreement, and the session ends `agreed` only when every participant of a round
agreed themselves. `max_silent_rounds` rounds in a row without any person's answer end it as
`no_response`; otherwise it ends after `max_rounds`. A refinement that fails for good (budget exhausted,
model rejected) ends it as `failed` with the reason, returning the turns so far rather than losing them.
Each participant in `notify` is told when their turn opens — after an answer or a deadline alike — by a
notice sent in the background (a slow mailbox never holds up the session); it never carries their link,
which the client sends once when the session starts, so no credential enters the history.
"""

import contextlib
import hashlib
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field, model_validator
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from antifragile_core.contracts.base import Model, OrgId
    from antifragile_core.contracts.collective import (
        RUN_CATCHBALL,
        CatchballRefinement,
        CatchballRequest,
        CatchballTurn,
        Name,
        ShortText,
    )
    from antifragile_core.contracts.operations import SEND_SCHEDULED_NOTIFICATION, NotificationTarget

from .calls import call, start, step_error
from .versioning import PINNED

HISTORY_TURNS = 20
"""Turns of history sent with each refinement: the recent discussion, bounded."""


class Participant(Model):
    name: Name
    level: Name


class CatchballSession(Model):
    organization_id: OrgId
    statement: ShortText
    participants: list[Participant] = Field(min_length=1, max_length=50)
    max_rounds: int = Field(default=3, ge=1, le=10)
    answer_timeout_seconds: float = Field(default=24 * 3600, gt=0)
    max_silent_rounds: int = Field(default=1, ge=1, le=10)
    model: str | None = None
    notify: dict[Name, NotificationTarget] = Field(
        default_factory=dict, max_length=50, description="where to tell participants that their turn is open"
    )

    @model_validator(mode="after")
    def _unique_names(self) -> "CatchballSession":
        names = [p.name for p in self.participants]
        if len(set(names)) != len(names):
            raise ValueError("participant names must be unique: answers are matched by name")
        return self


class CatchballAnswer(Model):
    """A participant's answer: feedback, agreement, or both."""

    participant: Name
    feedback: str | None = Field(default=None, min_length=1, max_length=20_000)
    agree: bool = False

    @model_validator(mode="after")
    def _says_something(self) -> "CatchballAnswer":
        if self.feedback is None and not self.agree:
            raise ValueError("give feedback, agree, or both")
        return self


class TurnRecord(Model):
    round: int
    turn: CatchballTurn
    statement_before: str
    statement_after: str
    refinement: CatchballRefinement | None = None


Status = Literal["waiting", "refining", "agreed", "no_response", "max_rounds", "failed"]
ENDED: tuple[Status, ...] = ("agreed", "no_response", "max_rounds", "failed")


class CatchballState(Model):
    status: Status
    round: int
    statement: str
    whose_turn: Participant | None
    turn_deadline: datetime | None
    turns: list[TurnRecord]


class CatchballOutcome(Model):
    """`agreed` only when every participant of the last round agreed themselves; `ai_drafted_turns`
    counts the turns the AI drafted for a silent participant (each is marked in `turns`)."""

    statement: str
    status: Status
    agreed: bool
    rounds: int
    ai_drafted_turns: int
    turns: list[TurnRecord]
    error: str | None = None


@workflow.defn(versioning_behavior=PINNED)  # waits hours to days: see versioning.py
class CatchballWorkflow:
    def __init__(self) -> None:
        self._state = CatchballState(
            status="waiting", round=0, statement="", whose_turn=None, turn_deadline=None, turns=[]
        )
        self._answer: CatchballAnswer | None = None
        self._error: str | None = None
        self._people_only = False
        self._turn_notices = False

    @workflow.query
    def state(self) -> CatchballState:
        return self._state

    @workflow.query
    def whose_turn(self) -> Participant | None:
        return self._state.whose_turn

    @workflow.update
    async def answer(self, answer: CatchballAnswer) -> TurnRecord:
        """Give the answer of the participant whose turn it is; returns their turn once refined."""
        self._answer = answer
        before = len(self._state.turns)
        await workflow.wait_condition(
            lambda: len(self._state.turns) > before or self._state.status == "failed"
        )
        if len(self._state.turns) == before:
            raise ApplicationError(f"the session ended before this turn was refined: {self._error}")
        return self._state.turns[before]

    @answer.validator
    def _validate_answer(self, answer: CatchballAnswer) -> None:
        turn = self._state.whose_turn
        if turn is None or self._answer is not None:
            raise ValueError("no turn is open for answers now")
        if answer.participant != turn.name:
            raise ValueError(f"it is {turn.name}'s turn, not {answer.participant}'s")

    @workflow.run
    async def run(self, session: CatchballSession) -> CatchballOutcome:
        # Runs started before this rule let drafted turns agree; they replay and finish that way.
        self._people_only = workflow.patched("agreement-only-from-people")
        self._turn_notices = workflow.patched("turn-notices")
        self._state.statement = session.statement
        timeout = timedelta(seconds=session.answer_timeout_seconds)
        silent_rounds = 0
        try:
            for round_no in range(1, session.max_rounds + 1):
                self._state.round = round_no
                records = [await self._turn(session, round_no, p, timeout) for p in session.participants]
                if all(r.turn.agreed for r in records):
                    self._state.status = "agreed"
                    break
                silent_rounds = silent_rounds + 1 if all(r.turn.ai_drafted for r in records) else 0
                if self._people_only and silent_rounds >= session.max_silent_rounds:
                    self._state.status = "no_response"
                    break
            else:
                self._state.status = "max_rounds"
        except ActivityError as err:
            self._error = step_error("refinement", err).reason
            self._state.status = "failed"
            self._state.whose_turn = self._state.turn_deadline = None
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CatchballOutcome(
            statement=self._state.statement,
            status=self._state.status,
            agreed=self._state.status == "agreed",
            rounds=self._state.round,
            ai_drafted_turns=sum(r.turn.ai_drafted for r in self._state.turns),
            turns=self._state.turns,
            error=self._error,
        )

    async def _turn(
        self, session: CatchballSession, round_no: int, who: Participant, deadline: timedelta
    ) -> TurnRecord:
        self._answer = None
        self._state.status = "waiting"
        self._state.whose_turn = who
        self._state.turn_deadline = workflow.now() + deadline
        if self._turn_notices and who.name in session.notify:
            self._notify(session, round_no, who, session.notify[who.name])
        # On the deadline, an answer accepted in the same instant still counts.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._answer is not None, timeout=deadline)
        answer = self._answer
        self._state.status = "refining"
        self._state.whose_turn = None
        self._state.turn_deadline = None
        record = await self._record(session, round_no, who, answer)
        self._state.turns.append(record)
        self._state.statement = record.statement_after
        return record

    def _notify(
        self, session: CatchballSession, round_no: int, who: Participant, to: NotificationTarget
    ) -> None:
        """Tell `who` their turn is open; one notice per turn (its key), delivered in the background."""
        turn = f"{workflow.info().workflow_id}\0{round_no}\0{len(self._state.turns)}\0{who.name}"
        deadline = self._state.turn_deadline
        body = (
            f"It is your turn (round {round_no}) in a catchball on this statement:\n\n"
            f"{self._state.statement}\n\n"
            f"Give feedback or agree before {deadline:%Y-%m-%d %H:%M} UTC, through the link you were sent "
            "when the session started."
        )
        key = hashlib.sha256(turn.encode()).hexdigest()
        notice = to.message(session.organization_id, key, "Your turn: catchball", body)
        handle = start(SEND_SCHEDULED_NOTIFICATION, notice)
        # A notice that fails for good is the mailbox's problem, not the session's: read it, don't raise it.
        handle.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _record(
        self, session: CatchballSession, round_no: int, who: Participant, answer: CatchballAnswer | None
    ) -> TurnRecord:
        before = self._state.statement
        if answer is not None and answer.feedback is None:
            turn = CatchballTurn(participant=who.name, level=who.level, feedback="", agreed=True)
            return TurnRecord(round=round_no, turn=turn, statement_before=before, statement_after=before)
        refinement = await call(
            RUN_CATCHBALL,
            CatchballRequest(
                organization_id=session.organization_id,
                statement=before,
                level=who.level,
                participant=who.name,
                feedback=answer.feedback if answer else None,
                history=[r.turn for r in self._state.turns[-HISTORY_TURNS:]],
                model=session.model,
            ),
        )
        if answer is None:
            turn = CatchballTurn(
                participant=who.name,
                level=who.level,
                feedback=refinement.drafted_feedback or "",
                agreed=refinement.alignment.agreed and not self._people_only,
                ai_drafted=True,
            )
        else:
            turn = CatchballTurn(
                participant=who.name, level=who.level, feedback=answer.feedback or "", agreed=answer.agree
            )
        return TurnRecord(
            round=round_no,
            turn=turn,
            statement_before=before,
            statement_after=refinement.refined_statement,
            refinement=refinement,
        )
