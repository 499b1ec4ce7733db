"""The parts of training that need no server: base-model names, chunking and the held-out split."""

from pathlib import Path

import pytest
from antifragile_core.errors import INVALID_INPUT, NOT_FOUND, NOT_READY
from antifragile_core.settings import Settings
from antifragile_worker_ml import smoke
from antifragile_worker_ml.dataset import (
    Document,
    PromptCompletion,
    build_splits,
    split_documents,
    token_chunks,
)
from antifragile_worker_ml.presets import resolve_base_model
from temporalio.exceptions import ApplicationError

TEXTS = [
    "The cooperative delivers produce from valley farms to city kitchens within a day. " * 20,
    "Spoilage fell to five percent while deliveries rose eleven percent this quarter. " * 20,
]


def test_base_models_resolve_to_a_preset_allowed_hub_id_or_directory_under_model_dir(tmp_path: Path) -> None:
    models, store = tmp_path / "models", tmp_path / "objects"
    (models / "llama-local").mkdir(parents=True)
    (store / "orgs/a/models/job-1/adapter").mkdir(parents=True)
    allowed = ["Qwen/Qwen2.5-0.5B-Instruct"]
    settings = Settings(_env_file=None, model_dir=models, base_model_hub_ids=allowed)  # type: ignore[call-arg]
    hub_only = Settings(_env_file=None, base_model_hub_ids=allowed)  # type: ignore[call-arg]

    assert resolve_base_model("qwen2.5-3b", settings).source == "Qwen/Qwen2.5-3B-Instruct"
    assert resolve_base_model("smoke", settings).smoke
    assert resolve_base_model("Qwen/Qwen2.5-0.5B-Instruct", settings).source == "Qwen/Qwen2.5-0.5B-Instruct"
    assert resolve_base_model("llama-local", settings).source == str(models / "llama-local")
    # Every path outside MODEL_DIR (another organisation's adapter in the directory store, a traversal, an
    # absolute path) and, without a MODEL_DIR, any hub id not allowed is refused before anything is read.
    refused = [
        (settings, str(store / "orgs/a/models/job-1/adapter")),
        (settings, "../objects/orgs/a/models/job-1/adapter"),
        (settings, "/etc"),
        (hub_only, "Qwen/Qwen2.5-72B-Instruct"),
        (hub_only, "llama-local"),
    ]
    for where, name in refused:
        with pytest.raises(ApplicationError) as error:
            resolve_base_model(name, where)
        assert error.value.non_retryable and error.value.type == INVALID_INPUT, name
    with pytest.raises(ApplicationError) as missing:
        resolve_base_model("not-there", settings)
    assert missing.value.non_retryable and missing.value.type == NOT_FOUND


def test_chunks_are_packed_blocks_of_the_documents_own_tokens() -> None:
    tokenizer = smoke.build_tokenizer(TEXTS)
    chunks = token_chunks(tokenizer, TEXTS, 64)
    assert all(len(c) == 64 for c in chunks[:-1]) and len(chunks[-1]) >= 16
    joined = tokenizer.decode([t for c in chunks for t in c])
    assert joined.startswith(TEXTS[0].strip()[:200])


def test_split_holds_out_whole_documents_and_masks_prompts_of_examples() -> None:
    tokenizer = smoke.build_tokenizer(TEXTS)
    example = PromptCompletion(prompt="Where do we deliver?", completion="To city kitchens.")
    documents = [Document(f"hash-{i}", text) for i, text in enumerate(TEXTS)]
    train, heldout = split_documents(documents, 0.2, seed=0)
    assert (len(train), len(heldout)) == (1, 1)
    assert split_documents(list(reversed(documents)), 0.2, seed=0) == (train, heldout), "order-independent"
    splits = build_splits(tokenizer, train, heldout, [example], 64)
    assert splits.heldout and all(text.strip() for text in splits.heldout)
    assert (splits.heldout_documents, splits.heldout_in_training) == (1, 0)
    *documents_rows, pair = splits.train
    assert all(set(row["completion_mask"]) == {1} for row in documents_rows)
    mask = pair["completion_mask"]
    assert mask[0] == 0 and mask[-1] == 1
    completion = [t for t, m in zip(pair["input_ids"], mask, strict=True) if m]
    assert "To city kitchens." in tokenizer.decode(completion)
    with pytest.raises(ApplicationError) as error:
        split_documents([Document("only", "One document cannot measure itself.")], 0.2, seed=0)
    assert error.value.type == NOT_READY


def test_the_leak_measure_sees_a_held_out_text_that_is_also_trained() -> None:
    """Two keys with one text (what the manifest prevents) are caught by the split's own check."""
    tokenizer = smoke.build_tokenizer(TEXTS)
    twins = [Document("a", TEXTS[0]), Document("b", TEXTS[0].upper())]
    splits = build_splits(tokenizer, twins[:1], twins[1:], [], 64)
    assert splits.heldout_in_training == len(splits.heldout) > 0
