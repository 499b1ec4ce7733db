"""`run_catchball`: refine a strategic statement with one participant's feedback (Hoshin Kanri).

Without feedback the participant did not answer in time: the model drafts what someone at their level
would most likely say, and refines with that; the draft is returned so the workflow can mark it.
"""

from collections.abc import Callable
from typing import Any

from antifragile_core.contracts.base import Model
from antifragile_core.contracts.collective import (
    RUN_CATCHBALL,
    Alignment,
    CatchballRefinement,
    CatchballRequest,
    Change,
)
from antifragile_core.contracts.documents import MAX_LIST_ITEMS, Sentences, Statement
from pydantic import Field

from .budget import model_used
from .resources import Resources
from .untrusted import material, with_data_rule

INSTRUCTIONS = with_data_rule(
    "You facilitate Hoshin Kanri catchball: a strategic statement passes between levels of an "
    "organisation, each refining it until all agree. Refine the statement with the participant's "
    "feedback: keep what nobody questioned, change what the feedback asks for when it serves the "
    "organisation, and say for each change what changed and why. List the questions still open. "
    "Assess how aligned the levels are (score 0 to 1) and whether the statement is agreed. Do not invent "
    "facts. Answer in the statement's language."
)
DRAFT_INSTRUCTIONS = (
    " The participant did not answer in time: first draft, in one short paragraph, the feedback a "
    "person at their level would most likely give, judging from the discussion so far, then refine with it."
)


class Refinement(Model):
    refined_statement: Statement
    changes: list[Change] = Field(max_length=MAX_LIST_ITEMS)
    open_questions: Sentences
    alignment: Alignment


class DraftedRefinement(Model):
    # Not a subclass of Refinement: the schema's field order is the answer's, and the draft must come
    # first so the model writes the feedback before refining with it.
    drafted_feedback: Statement = Field(description="The feedback drafted for the participant.")
    refined_statement: Statement
    changes: list[Change] = Field(max_length=MAX_LIST_ITEMS)
    open_questions: Sentences
    alignment: Alignment


def prompt_for(request: CatchballRequest) -> str:
    history = "\n".join(
        f"- {t.participant} ({t.level}){' [AI-drafted]' if t.ai_drafted else ''}: "
        f"{'agreed' if t.agreed else 'not yet agreed'}. {t.feedback}"
        for t in request.history
    )
    feedback = (
        material("feedback", request.feedback) if request.feedback is not None else "(no answer: draft it)"
    )
    return (
        f"Statement:\n{material('statement', request.statement)}\n\n"
        f"Discussion so far:\n{material('discussion', history) if history else '(none)'}\n\n"
        f"Participant:\n{material('participant', f'{request.participant}, level: {request.level}')}\n\n"
        f"Feedback:\n{feedback}"
    )


def activities(res: Resources) -> list[Callable[..., Any]]:
    @RUN_CATCHBALL.implement
    async def run_catchball(request: CatchballRequest) -> CatchballRefinement:
        drafting = request.feedback is None
        model = request.model or res.settings.model_for("catchball")
        answer, usage = await res.llm.run(
            name="catchball",
            instructions=INSTRUCTIONS + (DRAFT_INSTRUCTIONS if drafting else ""),
            prompt=prompt_for(request),
            output_type=DraftedRefinement if drafting else Refinement,
            model=model,
        )
        return CatchballRefinement(
            **answer.model_dump(exclude={"drafted_feedback"}),
            drafted_feedback=answer.drafted_feedback if isinstance(answer, DraftedRefinement) else None,
            model=model_used(model),
            usage=usage,
        )

    return [run_catchball]
