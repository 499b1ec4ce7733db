"""The training set: the organisation's own extracted text, token-chunked, with a held-out split.

Continued pretraining on the documents themselves keeps every example grounded in what the organisation
wrote; an improvement dataset (JSONL of {"prompt", "completion"}, built from user feedback) adds supervised
pairs whose loss covers the completion only.
"""

import json
import random
from dataclasses import dataclass

from antifragile_core.errors import INVALID_INPUT, NOT_FOUND, NOT_READY, bad_input
from antifragile_core.storage import ObjectNotFound
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from transformers import PreTrainedTokenizerBase

from .layout import documents_prefix
from .sync_store import SyncStore

TEXT_OBJECT = "text"
"""Name of the extracted-text object the document pipeline writes under documents/<hash>/."""


class PromptCompletion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)
    completion: str = Field(min_length=1)


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    examples: list[PromptCompletion]


@dataclass(frozen=True)
class Splits:
    train: list[dict[str, list[int]]]
    """Rows of `input_ids` and `completion_mask` (1 where the loss counts)."""
    heldout: list[str]


def load_corpus(store: SyncStore, organization_id: str, dataset_key: str | None) -> Corpus:
    """The organisation's extracted texts in key order (so a retry sees the same corpus) and examples."""
    keys = [k for k in store.keys(documents_prefix(organization_id)) if k.rsplit("/", 1)[-1] == TEXT_OBJECT]
    texts = [t for t in (store.get(k).decode("utf-8") for k in keys) if t.strip()]
    if not texts:
        raise bad_input(
            NOT_READY,
            f"organisation {organization_id} has no extracted document text yet; upload documents first",
        )
    examples = _load_examples(store, dataset_key) if dataset_key else []
    return Corpus(texts, examples)


def _load_examples(store: SyncStore, key: str) -> list[PromptCompletion]:
    try:
        lines = store.get(key).decode("utf-8").splitlines()
    except ObjectNotFound:
        raise bad_input(NOT_FOUND, f"improvement dataset {key!r} does not exist") from None
    try:
        return [PromptCompletion.model_validate(json.loads(line)) for line in lines if line.strip()]
    except (ValueError, ValidationError) as e:
        raise bad_input(
            INVALID_INPUT, f"improvement dataset {key!r} must be JSONL of {{'prompt', 'completion'}}: {e}"
        ) from None


def token_chunks(tokenizer: PreTrainedTokenizerBase, texts: list[str], seq_len: int) -> list[list[int]]:
    """Documents joined by EOS and cut into `seq_len`-token blocks: packed, so no compute goes to padding.

    A tail shorter than a quarter block is dropped; it would mostly train on padding.
    """
    ids: list[int] = []
    for text in texts:
        ids += tokenizer(text, add_special_tokens=False)["input_ids"]
        ids.append(tokenizer.eos_token_id)
    chunks = [ids[i : i + seq_len] for i in range(0, len(ids), seq_len)]
    if len(chunks) > 1 and len(chunks[-1]) < seq_len // 4:
        chunks.pop()
    return chunks


def _example_row(tokenizer: PreTrainedTokenizerBase, example: PromptCompletion) -> dict[str, list[int]]:
    """The chat-formatted exchange; the prompt part is masked out of the loss."""
    user = [{"role": "user", "content": example.prompt}]
    prompt = tokenizer.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template(
        [*user, {"role": "assistant", "content": example.completion}], tokenize=False
    )
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(full.removeprefix(prompt), add_special_tokens=False)["input_ids"]
    return {
        "input_ids": prompt_ids + completion_ids,
        "completion_mask": [0] * len(prompt_ids) + [1] * len(completion_ids),
    }


def build_splits(
    tokenizer: PreTrainedTokenizerBase, corpus: Corpus, seq_len: int, heldout_fraction: float, seed: int
) -> Splits:
    """A seeded shuffle of the chunks; the held-out part is kept as text for perplexity later."""
    chunks = token_chunks(tokenizer, corpus.texts, seq_len)
    if len(chunks) < 2:
        raise bad_input(
            NOT_READY,
            f"the documents hold {len(chunks[0])} tokens, too few for a training and a held-out block of "
            f"seq_len={seq_len}; add documents or lower hyperparameters.seq_len",
        )
    random.Random(seed).shuffle(chunks)
    n_heldout = max(1, round(len(chunks) * heldout_fraction))
    heldout, train = chunks[:n_heldout], chunks[n_heldout:]
    rows = [{"input_ids": c, "completion_mask": [1] * len(c)} for c in train]
    rows += [_example_row(tokenizer, e) for e in corpus.examples]
    return Splits(train=rows, heldout=[tokenizer.decode(c) for c in heldout])


def heldout_jsonl(texts: list[str]) -> bytes:
    return "".join(json.dumps({"text": t}) + "\n" for t in texts).encode()


def parse_heldout(data: bytes) -> list[str]:
    return [json.loads(line)["text"] for line in data.decode("utf-8").splitlines() if line.strip()]
