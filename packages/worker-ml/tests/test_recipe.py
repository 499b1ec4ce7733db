"""The parts of training that need no server: base-model names, chunking and the held-out split."""

from pathlib import Path

import pytest
from antifragile_core.contracts.training import BASE_MODEL_PRESETS
from antifragile_core.errors import INVALID_INPUT, NOT_READY
from antifragile_worker_ml import smoke
from antifragile_worker_ml.dataset import Corpus, PromptCompletion, build_splits, token_chunks
from antifragile_worker_ml.presets import PRESETS, SMOKE, resolve_base_model
from temporalio.exceptions import ApplicationError

TEXTS = [
    "The cooperative delivers produce from valley farms to city kitchens within a day. " * 20,
    "Spoilage fell to five percent while deliveries rose eleven percent this quarter. " * 20,
]


def test_presets_match_the_names_default_queue_accepts() -> None:
    assert {SMOKE, *PRESETS} == set(BASE_MODEL_PRESETS)


def test_base_models_resolve_to_a_preset_hub_id_or_directory(tmp_path: Path) -> None:
    assert resolve_base_model("qwen2.5-3b").source == "Qwen/Qwen2.5-3B-Instruct"
    assert resolve_base_model("smoke").smoke
    assert resolve_base_model("Qwen/Qwen2.5-0.5B-Instruct").source == "Qwen/Qwen2.5-0.5B-Instruct"
    assert resolve_base_model(str(tmp_path)).source == str(tmp_path)
    with pytest.raises(ApplicationError) as error:
        resolve_base_model("llama-9000")
    assert error.value.non_retryable and error.value.type == INVALID_INPUT


def test_chunks_are_packed_blocks_of_the_documents_own_tokens() -> None:
    tokenizer = smoke.build_tokenizer(TEXTS)
    chunks = token_chunks(tokenizer, TEXTS, 64)
    assert all(len(c) == 64 for c in chunks[:-1]) and len(chunks[-1]) >= 16
    joined = tokenizer.decode([t for c in chunks for t in c])
    assert joined.startswith(TEXTS[0].strip()[:200])


def test_split_holds_out_text_and_masks_prompts_of_examples() -> None:
    tokenizer = smoke.build_tokenizer(TEXTS)
    example = PromptCompletion(prompt="Where do we deliver?", completion="To city kitchens.")
    splits = build_splits(tokenizer, Corpus(TEXTS, [example]), 64, 0.2, seed=0)
    assert splits.heldout and all(text.strip() for text in splits.heldout)
    *documents, pair = splits.train
    assert all(set(row["completion_mask"]) == {1} for row in documents)
    mask = pair["completion_mask"]
    assert mask[0] == 0 and mask[-1] == 1
    completion = [t for t, m in zip(pair["input_ids"], mask, strict=True) if m]
    assert "To city kitchens." in tokenizer.decode(completion)
    with pytest.raises(ApplicationError) as error:
        build_splits(tokenizer, Corpus(["Too short."], []), 64, 0.2, seed=0)
    assert error.value.type == NOT_READY
