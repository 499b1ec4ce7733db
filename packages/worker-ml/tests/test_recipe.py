"""The parts of training that need no server: base-model names, chunking and the held-out split."""

from pathlib import Path

import pytest
from antifragile_core.errors import INVALID_INPUT, NOT_FOUND, NOT_READY
from antifragile_core.settings import Settings
from antifragile_worker_ml import smoke
from antifragile_worker_ml.dataset import Corpus, PromptCompletion, build_splits, token_chunks
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
    settings = Settings(_env_file=None, model_dir=models, base_model_hub_ids=["Qwen/Qwen2.5-0.5B-Instruct"])  # type: ignore[call-arg]

    assert resolve_base_model("qwen2.5-3b", settings).source == "Qwen/Qwen2.5-3B-Instruct"
    assert resolve_base_model("smoke", settings).smoke
    assert resolve_base_model("Qwen/Qwen2.5-0.5B-Instruct", settings).source == "Qwen/Qwen2.5-0.5B-Instruct"
    assert resolve_base_model("llama-local", settings).source == str(models / "llama-local")
    # Any other hub id, and every path outside MODEL_DIR (another organisation's adapter in the directory
    # store, a traversal, an absolute path) is refused before anything is read.
    for name in (
        "llama-9000",
        "Qwen/Qwen2.5-72B-Instruct",
        str(store / "orgs/a/models/job-1/adapter"),
        "../objects/orgs/a/models/job-1/adapter",
        "/etc",
    ):
        with pytest.raises(ApplicationError) as error:
            resolve_base_model(name, settings)
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
