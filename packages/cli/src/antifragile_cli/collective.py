"""`antifragile research | catchball | wisdom | costs`: the collective-intelligence work from a terminal.

Like every command here, a Temporal client only: the workflows run on the workers, answers typed in
the terminal travel as workflow updates, and the costs come from the ledger through a workflow.
"""

import argparse
import asyncio
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from antifragile_core.contracts.costs import GET_ORGANIZATION_COSTS, CostQuery, CostReport
from antifragile_core.queues import DEFAULT_QUEUE
from antifragile_core.runtime import connect
from antifragile_core.settings import Settings
from antifragile_workflows.catchball import (
    ENDED,
    CatchballAnswer,
    CatchballSession,
    CatchballWorkflow,
    Participant,
    TurnRecord,
)
from antifragile_workflows.management import manage
from antifragile_workflows.research import ResearchQuestion, ResearchWorkflow
from antifragile_workflows.wisdom import ContributionIn, WisdomOutcome, WisdomRound, WisdomWorkflow
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError

from .failures import report_failure

POLL_SECONDS = 1.0


def register(subparsers: Any) -> None:
    research = subparsers.add_parser("research", help="answer a question from an organisation's documents")
    research.add_argument("org")
    research.add_argument("question")
    research.add_argument(
        "--passages", type=int, default=None, help="passages to retrieve (default: settings)"
    )
    research.add_argument("--web-search", action="store_true", help="also search the web (OpenAI only)")
    research.set_defaults(handler=ask)

    catchball = subparsers.add_parser("catchball", help="refine a statement with participants, in turns")
    catchball.add_argument("org")
    catchball.add_argument("statement")
    catchball.add_argument(
        "--participant", action="append", required=True, metavar="NAME:LEVEL", help="in turn order; repeat"
    )
    catchball.add_argument("--rounds", type=int, default=3)
    catchball.add_argument("--answer-minutes", type=float, default=10.0, help="each turn's deadline")
    catchball.set_defaults(handler=run_catchball)

    wisdom = subparsers.add_parser("wisdom", help="collect answers to a question and synthesise them")
    wisdom.add_argument("org")
    wisdom.add_argument("question")
    wisdom.add_argument("--quorum", type=int, required=True)
    wisdom.add_argument("--deadline-minutes", type=float, default=60.0)
    wisdom.set_defaults(handler=run_wisdom)

    costs = subparsers.add_parser("costs", help="an organisation's LLM spend by activity and model")
    costs.add_argument("org")
    costs.add_argument("--since", type=datetime.fromisoformat, help="ISO date (default: this budget month)")
    costs.set_defaults(handler=show_costs)


def _queue(settings: Settings) -> str:
    return settings.task_queue_prefix + DEFAULT_QUEUE


async def ask(args: argparse.Namespace, settings: Settings) -> int:
    client = await connect(settings)
    question = ResearchQuestion(
        organization_id=args.org,
        question=args.question,
        max_passages=args.passages or settings.research_max_passages,
        web_search=args.web_search,
    )
    answer = await client.execute_workflow(
        ResearchWorkflow.run,
        question,
        id=f"research-{args.org}-{uuid.uuid4().hex[:8]}",
        task_queue=_queue(settings),
    )
    print(answer.answer)
    for n, c in enumerate(answer.citations, 1):
        print(f"  [{n}] {c.filename} ({c.passage_id}): “{c.quote}”")
    if answer.dropped_citations:
        print(f"  ({answer.dropped_citations} citation(s) of passages not supplied were dropped)")
    if answer.unverified_citations:
        print(f"  ({answer.unverified_citations} citation(s) whose quote is not in the passage were dropped)")
    if not answer.grounded:
        print("  No citation could be verified: the passages do not back this answer.")
    if answer.web_search_used:
        print("  The model searched the web.")
    print(f"self-reported confidence {answer.confidence:.2f} · {answer.model} · {_tokens(answer.usage)}")
    return 0


async def _read(prompt: str) -> str | None:
    """A line typed in the terminal, stripped; None once input has ended (Ctrl-D, a closed pipe)."""
    try:
        return (await asyncio.to_thread(input, prompt)).strip()
    except EOFError:
        return None


def _participant(spec: str) -> Participant:
    name, sep, level = spec.partition(":")
    if not sep:
        raise ValueError(f"participant {spec!r} is not NAME:LEVEL")
    return Participant(name=name.strip(), level=level.strip())


async def run_catchball(args: argparse.Namespace, settings: Settings) -> int:
    try:
        session = CatchballSession(
            organization_id=args.org,
            statement=args.statement,
            participants=[_participant(p) for p in args.participant],
            max_rounds=args.rounds,
            answer_timeout_seconds=args.answer_minutes * 60,
        )
    except (ValueError, ValidationError) as err:
        return report_failure(err)
    client = await connect(settings)
    handle = await client.start_workflow(
        CatchballWorkflow.run,
        session,
        id=f"catchball-{args.org}-{uuid.uuid4().hex[:8]}",
        task_queue=_queue(settings),
    )
    print(f"catchball {handle.id}: Enter agrees, '-' lets the deadline pass (the AI drafts the answer)")
    shown, let_pass = 0, -1  # let_pass: the turn whose deadline the user chose to let pass
    while True:
        state = await handle.query(CatchballWorkflow.state)
        for record in state.turns[shown:]:
            _print_turn(record)
        shown = len(state.turns)
        if state.status in ENDED:
            break
        if state.whose_turn is None or len(state.turns) == let_pass:
            await asyncio.sleep(POLL_SECONDS)
            continue
        who = state.whose_turn
        text = await _read(f"[round {state.round}] {who.name} ({who.level}) > ")
        if text is None or text == "-":
            let_pass = len(state.turns)
            continue
        answer = CatchballAnswer(participant=who.name, feedback=text or None, agree=not text)
        try:
            await handle.execute_update(CatchballWorkflow.answer, answer)
        except WorkflowUpdateFailedError as err:
            print(f"  not taken: {err.cause or err}")
    outcome = await handle.result()
    verdict = {"agreed": "AGREED", "no_response": "NO RESPONSE"}.get(outcome.status, "NOT AGREED")
    print(f"\n{verdict} after {outcome.rounds} round(s):\n{outcome.statement}")
    if outcome.ai_drafted_turns:
        print(
            f"{outcome.ai_drafted_turns} turn(s) AI-drafted for silent participants; "
            "drafted turns never count as agreement"
        )
    if outcome.error is not None:
        print(f"error: the session stopped: {outcome.error}", file=sys.stderr)
        return 1
    return 0


def _print_turn(record: TurnRecord) -> None:
    turn = record.turn
    marker = " [AI-drafted: no answer in time; not their agreement]" if turn.ai_drafted else ""
    print(f"  {turn.participant} ({turn.level}){marker}: {'agrees' if turn.agreed else 'asks for changes'}")
    if turn.feedback:
        print(f"    feedback: {turn.feedback}")
    if record.refinement is not None:
        for change in record.refinement.changes:
            print(f"    changed: {change.what} — {change.why}")
        print(f"    statement now: {record.statement_after}")


async def run_wisdom(args: argparse.Namespace, settings: Settings) -> int:
    round_ = WisdomRound(
        organization_id=args.org,
        question=args.question,
        quorum=args.quorum,
        deadline_seconds=args.deadline_minutes * 60,
    )
    client = await connect(settings)
    handle = await client.start_workflow(
        WisdomWorkflow.run,
        round_,
        id=f"wisdom-{args.org}-{uuid.uuid4().hex[:8]}",
        task_queue=_queue(settings),
    )
    print(f"wisdom round {handle.id}: type 'name: answer' lines; an empty line stops collecting here")
    while (await handle.query(WisdomWorkflow.state)).status == "collecting":
        line = await _read("> ")
        if not line:
            break
        author, sep, text = line.partition(":")
        if not sep or not author.strip() or not text.strip():
            print("  write it as 'name: answer'")
            continue
        try:
            accepted = await handle.execute_update(
                WisdomWorkflow.contribute, ContributionIn(author=author.strip(), text=text.strip())
            )
            print(f"  recorded as {accepted.contribution_id}")
        except (WorkflowUpdateFailedError, ValidationError) as err:
            print(f"  not taken: {getattr(err, 'cause', None) or err}")
    print("waiting for the quorum or the deadline, then the synthesis ...")
    _print_wisdom(await handle.result())
    return 0


def _print_wisdom(outcome: WisdomOutcome) -> None:
    synthesis = outcome.synthesis
    if synthesis is None:
        print("nobody contributed before the deadline: nothing to synthesise")
        return
    quorum = "quorum reached" if outcome.quorum_reached else "deadline passed before the quorum"
    print(f"{len(outcome.contributions)} contribution(s), {quorum}")
    for theme in synthesis.themes:
        print(f"  theme: {theme.title} [{', '.join(theme.contribution_ids)}] — {theme.summary}")
    for label, points in (("consensus", synthesis.consensus), ("dissent", synthesis.dissent)):
        for point in points:
            print(f"  {label}: {point.point} [{', '.join(point.contribution_ids)}]")
    rec = synthesis.recommendation
    print(f"recommendation: {rec.point} [{', '.join(rec.contribution_ids)}]")
    usage = _tokens(synthesis.usage)
    print(f"self-reported confidence {synthesis.confidence:.2f} · {synthesis.model} · {usage}")


async def show_costs(args: argparse.Namespace, settings: Settings) -> int:
    since = args.since.replace(tzinfo=args.since.tzinfo or UTC) if args.since else None
    client = await connect(settings)
    report = await manage(
        client, _queue(settings), GET_ORGANIZATION_COSTS, CostQuery(organization_id=args.org, since=since)
    )
    print(format_costs(report))
    return 0


def format_costs(report: CostReport) -> str:
    lines = [f"LLM costs of {report.organization_id} since {report.since:%Y-%m-%d %H:%M} UTC"]
    lines.append(
        f"  {'activity':<28} {'model':<20} {'calls':>6} {'in tok':>10} {'out tok':>10} {'USD':>12}"
        f" {'unknown':>8} {'estim.':>7}"
    )
    for line in report.lines:
        lines.append(
            f"  {line.activity:<28} {line.model:<20} {line.calls:>6} {line.input_tokens:>10} "
            f"{line.output_tokens:>10} {line.cost_usd:>12.6f} {line.unknown_calls:>8} "
            f"{line.estimated_calls:>7}"
        )
    lines.append(
        "  unknown: no answer came back (timeout, 5xx), booked at the reserved amount; "
        "estim.: no usage reported, tokens counted locally"
    )
    budget = f"${report.budget_usd:.2f}" if report.budget_usd is not None else "no budget set"
    lines.append(
        f"spent ${report.spent_usd:.6f}, reserved by calls in flight ${report.reserved_usd:.6f}, {budget}"
    )
    return "\n".join(lines)


def _tokens(usage: Any) -> str:
    return f"{usage.requests} request(s), {usage.input_tokens} in / {usage.output_tokens} out tokens"
