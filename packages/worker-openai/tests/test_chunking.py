"""Splitting by a token budget: nothing lost, nothing over budget, cuts at natural boundaries."""

import pytest
from antifragile_core.errors import LLM_NOT_CONFIGURED
from antifragile_core.settings import Settings
from antifragile_worker_openai.chunking import CHARS_PER_TOKEN, input_budget, split_text
from antifragile_worker_openai.documents import SUMMARY
from antifragile_worker_openai.llm import LLM
from temporalio.exceptions import ApplicationError

PARAGRAPH = "The board approved the plan. Margins fell in the north. Demand rose in the south."


def test_parts_fit_the_budget_keep_every_word_and_cut_between_paragraphs() -> None:
    text = "\n\n".join(f"{i}. {PARAGRAPH}" for i in range(40))
    parts = split_text(text, max_tokens=100)
    assert len(parts) > 1
    assert all(len(p) <= 100 * CHARS_PER_TOKEN for p in parts)
    assert " ".join(parts).split() == text.split()
    assert all(p.endswith("south.") for p in parts)


def test_text_within_the_budget_is_one_part_and_overlong_words_are_cut() -> None:
    assert split_text(f"  {PARAGRAPH}\n", max_tokens=100) == [PARAGRAPH]
    word = "x" * 1_000
    assert split_text(word, max_tokens=100) == [word[:300], word[300:600], word[600:900], word[900:]]


def test_a_context_too_small_for_any_text_is_a_configuration_error() -> None:
    settings = Settings(_env_file=None, openai_context_tokens=600, llm_max_output_tokens=400)  # type: ignore[call-arg]
    with pytest.raises(ApplicationError) as error:
        input_budget(LLM(settings, None), SUMMARY)
    assert error.value.type == LLM_NOT_CONFIGURED and error.value.non_retryable
    assert "OPENAI_CONTEXT_TOKENS=600" in error.value.message
