"""The local OpenAI-compatible server answers valid instances of the schema it is sent."""

import json
import urllib.error
import urllib.request
from enum import StrEnum
from typing import Annotated, Literal

import pytest
from antifragile_testing.openai_server import ServerScope, instance_for
from pydantic import BaseModel, Field


class Level(StrEnum):
    LOW = "low"
    HIGH = "high"


class Person(BaseModel):
    name: str = Field(min_length=12, max_length=40)
    level: Level
    age: int | None = Field(ge=18, le=67)


class Report(BaseModel):
    title: str
    owner: Person
    reviewers: list[Person] = Field(min_length=4, max_length=5)
    score: Annotated[float, Field(gt=0, lt=1)]
    steps: list[Annotated[int, Field(ge=-3, le=-1)]]
    mode: Literal["draft", "final"] | Person
    tags: dict[str, str] | None
    done: bool


def request(url: str, body: dict[str, object] | None = None) -> tuple[int, dict[str, str], dict[str, object]]:
    """Status, headers and JSON body of a GET (no body) or POST to the server."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def chat(model: type[BaseModel], text: str) -> dict[str, object]:
    schema = {"name": model.__name__, "strict": True, "schema": model.model_json_schema()}
    return {
        "model": "local",
        "messages": [{"role": "system", "content": "Ignore me."}, {"role": "user", "content": text}],
        "response_format": {"type": "json_schema", "json_schema": schema},
    }


def test_answers_validate_against_nested_schemas_with_words_of_the_user(
    openai_server: ServerScope,
) -> None:
    text = "Quarterly resilience review of warehouse automation and supplier diversification"
    status, _, body = request(f"{openai_server.base_url}/chat/completions", chat(Report, text))
    assert status == 200
    report = Report.model_validate_json(body["choices"][0]["message"]["content"])
    assert set(report.title.split()) <= set(text.split())
    assert "Ignore" not in body["choices"][0]["message"]["content"]
    usage = body["usage"]
    assert usage["prompt_tokens"] == 3 + len(text.split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert openai_server.completions[0].body["response_format"]["json_schema"]["name"] == "Report"


def test_instance_for_handles_refs_all_of_one_of_const_and_exclusive_bounds() -> None:
    from antifragile_testing.openai_server import _Words

    schema = {
        "$defs": {
            "Base": {"type": "object", "properties": {"id": {"type": "integer", "exclusiveMinimum": 5}}}
        },
        "type": "object",
        "properties": {
            "merged": {"allOf": [{"$ref": "#/$defs/Base"}, {"properties": {"kind": {"const": "x"}}}]},
            "either": {"oneOf": [{"type": "null"}, {"type": "number", "exclusiveMaximum": 0}]},
            "maybe": {"type": ["null", "string"], "maxLength": 5},
        },
    }
    value = instance_for(schema, _Words("alpha beta gamma"))
    assert value["merged"]["kind"] == "x" and value["merged"]["id"] > 5
    assert isinstance(value["either"], float | int) and value["either"] < 0
    assert isinstance(value["maybe"], str) and 0 < len(value["maybe"]) <= 5
    json.dumps(value)


@pytest.mark.parametrize(("status", "retry_after"), [(429, 1.5), (500, None), (400, None)])
def test_scripted_faults_come_in_order_then_normal_answers(
    openai_server: ServerScope, status: int, retry_after: float | None
) -> None:
    openai_server.script_faults(status, retry_after=retry_after, after=1)
    url = f"{openai_server.base_url}/chat/completions"
    answers = [request(url, chat(Person, "some words here")) for _ in range(3)]
    assert [a[0] for a in answers] == [200, status, 200]
    assert answers[1][1].get("Retry-After") == (None if retry_after is None else f"{retry_after:g}")
    assert answers[1][2]["error"]["message"] == "scripted fault"
    assert [r.status for r in openai_server.requests] == [200, status, 200]
    models = request(f"{openai_server.base_url}/models")[2]["data"]
    assert models[0]["object"] == "model"
