"""`synthesize_wisdom`: many people's answers to one question merged into themes, consensus, dissent
and a recommendation, every point attributed to the contributions behind it.

Attributions may only name the request's contribution ids (see attribution.py): unknown ids are
removed, a point left with none is dropped, and a recommendation left with none is an invalid answer
(asked again once, like a schema mismatch), since a recommendation nobody backs is not the group's wisdom.
"""

from collections.abc import Callable
from typing import Any

from antifragile_core.contracts.base import Model
from antifragile_core.contracts.collective import (
    MAX_BACKING_IDS,
    SYNTHESIZE_WISDOM,
    AttributedPoint,
    Theme,
    WisdomRequest,
    WisdomSynthesis,
)
from antifragile_core.contracts.documents import MAX_LIST_ITEMS, Confidence, Label, Paragraph, Sentence
from pydantic import Field, create_model

from .answers import InvalidAnswer
from .attribution import id_choice, known
from .budget import model_used
from .resources import Resources
from .untrusted import material, with_data_rule

INSTRUCTIONS = with_data_rule(
    "You synthesise the collective wisdom of an organisation: many people answered one question. Find "
    "the themes, what most agree on (consensus), where they disagree (dissent), and recommend what to do. "
    "Attribute every theme and point to the ids of the contributions behind it. Give your confidence "
    "(0 to 1) that the recommendation reflects the group. Do not invent views nobody expressed. Answer "
    "in the question's language."
)


def synthesis_type(ids: list[str]) -> type[Model]:
    """The output schema for these contributions: attributions can only name their ids."""
    cited = (
        list[id_choice(ids)],  # type: ignore[misc]
        Field(max_length=MAX_BACKING_IDS, description="Ids of the contributions behind this."),
    )
    point = create_model("Point", __base__=Model, point=(Sentence, ...), contribution_ids=cited)
    theme = create_model(
        "ThemeDraft", __base__=Model, title=(Label, ...), summary=(Paragraph, ...), contribution_ids=cited
    )
    listed = Field(max_length=MAX_LIST_ITEMS)
    return create_model(
        "SynthesisDraft",
        __base__=Model,
        themes=(list[theme], listed),  # type: ignore[valid-type]
        consensus=(list[point], listed),  # type: ignore[valid-type]
        dissent=(list[point], listed),  # type: ignore[valid-type]
        recommendation=(point, ...),
        confidence=(Confidence, ...),
    )


def prompt_for(request: WisdomRequest) -> str:
    listing = "\n\n".join(
        material(f"contribution {c.contribution_id}", f"{c.author}:\n{c.text}") for c in request.contributions
    )
    return f"Question: {request.question}\n\nContributions:\n\n{listing}"


def backed(ids: set[str]) -> Callable[[Any], None]:
    """A check that the draft's recommendation names at least one contribution of the round."""

    def check(draft: Any) -> None:
        if not known(draft.recommendation.contribution_ids, ids):
            raise InvalidAnswer("field 'recommendation.contribution_ids': names no contribution of the round")

    return check


def attributed(draft: Any, ids: set[str]) -> dict[str, Any]:
    """The draft's points with only known ids; points left without any are dropped."""
    themes = [
        Theme(title=t.title, summary=t.summary, contribution_ids=kept)
        for t in draft.themes
        if (kept := known(t.contribution_ids, ids))
    ]
    consensus, dissent = (
        [
            AttributedPoint(point=p.point, contribution_ids=kept)
            for p in points
            if (kept := known(p.contribution_ids, ids))
        ]
        for points in (draft.consensus, draft.dissent)
    )
    backing = known(draft.recommendation.contribution_ids, ids)
    recommendation = AttributedPoint(point=draft.recommendation.point, contribution_ids=backing)
    return {"themes": themes, "consensus": consensus, "dissent": dissent, "recommendation": recommendation}


def activities(res: Resources) -> list[Callable[..., Any]]:
    @SYNTHESIZE_WISDOM.implement
    async def synthesize_wisdom(request: WisdomRequest) -> WisdomSynthesis:
        ids = [c.contribution_id for c in request.contributions]
        model = request.model or res.settings.model_for("wisdom")
        draft, usage = await res.llm.run(
            name="wisdom synthesis",
            instructions=INSTRUCTIONS,
            prompt=prompt_for(request),
            output_type=synthesis_type(ids),
            model=model,
            check=backed(set(ids)),
        )
        return WisdomSynthesis(
            **attributed(draft, set(ids)),
            confidence=draft.confidence,  # type: ignore[attr-defined]
            model=model_used(model),
            usage=usage,
        )

    return [synthesize_wisdom]
