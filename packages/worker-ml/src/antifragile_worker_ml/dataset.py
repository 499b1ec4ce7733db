"""The training set: the documents of the job's corpus manifest, token-chunked, with a held-out split.

Continued pretraining on the documents themselves keeps every example grounded in what the organisation
wrote; an improvement dataset (JSONL of {"prompt", "completion"}, built from user feedback) adds supervised
pairs whose loss covers the completion only. The held-out split is by whole document, chosen by a seeded
hash of each document's text hash: the same manifest always splits the same way, and no held-out text
can also be trained on (near-duplicates are already one document in the manifest).
"""

import hashlib
import json
from dataclasses import dataclass

from antifragile_core.contracts.training import CorpusManifest
from antifragile_core.errors import INVALID_INPUT, NOT_FOUND, NOT_READY, bad_input
from antifragile_core.storage import ObjectNotFound, checked_org_key
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
class Document:
    key: str
    """What the held-out split hashes: the text hash (manifest) or the object key (jobs without one)."""
    text: str


@dataclass(frozen=True)
class Corpus:
    documents: list[Document]
    examples: list[PromptCompletion]


@dataclass(frozen=True)
class Splits:
    train: list[dict[str, list[int]]]
    """Rows of `input_ids` and `completion_mask` (1 where the loss counts)."""
    heldout: list[str]
    heldout_documents: int
    heldout_in_training: int
    """Held-out passages whose text (modulo case and whitespace) occurs in a training document."""


def load_corpus(
    store: SyncStore, organization_id: str, manifest_key: str | None, dataset_key: str | None
) -> Corpus:
    """The manifest's documents (or, for a job without one, the organisation's current texts in key
    order) and the improvement examples."""
    if manifest_key is None:
        keys = [
            k for k in store.keys(documents_prefix(organization_id)) if k.rsplit("/", 1)[-1] == TEXT_OBJECT
        ]
        documents = [Document(k, store.get(k).decode("utf-8")) for k in keys]
    else:
        documents = _manifest_documents(store, organization_id, manifest_key)
    documents = [d for d in documents if d.text.strip()]
    if not documents:
        raise bad_input(
            NOT_READY,
            f"organisation {organization_id} has no extracted document text yet; upload documents first",
        )
    examples = _load_examples(store, dataset_key) if dataset_key else []
    return Corpus(documents, examples)


def _manifest_documents(store: SyncStore, organization_id: str, manifest_key: str) -> list[Document]:
    try:
        manifest = CorpusManifest.model_validate_json(
            store.get(checked_org_key(organization_id, manifest_key, "manifest_key"))
        )
    except ObjectNotFound:
        raise bad_input(
            NOT_FOUND, f"corpus manifest {manifest_key!r} does not exist; submit the job again"
        ) from None
    documents = []
    for entry in manifest.documents:
        try:
            text = store.get(checked_org_key(organization_id, entry.text_key, "text_key")).decode("utf-8")
        except ObjectNotFound:
            raise bad_input(
                NOT_FOUND,
                f"document {entry.document_id} of the job's corpus was deleted (retention?); "
                "submit a new job",
            ) from None
        documents.append(Document(entry.text_hash, text))
    return documents


def split_documents(
    documents: list[Document], heldout_fraction: float, seed: int
) -> tuple[list[Document], list[Document]]:
    """(train, held-out): whole documents, the held-out ones chosen by a seeded hash of their key."""
    if len(documents) < 2:
        raise bad_input(
            NOT_READY,
            "a held-out split needs at least two distinct documents (one to train on, one to measure); "
            "upload more documents",
        )
    ranked = sorted(documents, key=lambda d: hashlib.sha256(f"{seed}\0{d.key}".encode()).digest())
    n_heldout = min(len(ranked) - 1, max(1, round(len(ranked) * heldout_fraction)))
    return ranked[n_heldout:], ranked[:n_heldout]


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
    tokenizer: PreTrainedTokenizerBase,
    train: list[Document],
    heldout: list[Document],
    examples: list[PromptCompletion],
    seq_len: int,
) -> Splits:
    """Training rows from the training documents and examples; held-out documents kept as text blocks
    for perplexity later, each checked against the training text."""
    chunks = token_chunks(tokenizer, [d.text for d in train], seq_len)
    rows = [{"input_ids": c, "completion_mask": [1] * len(c)} for c in chunks]
    rows += [_example_row(tokenizer, e) for e in examples]
    held = token_chunks(tokenizer, [d.text for d in heldout], seq_len)
    trained_text = _normalised("\n".join(d.text for d in train))
    passages = [_normalised(tokenizer.decode(c, skip_special_tokens=True)) for c in held]
    leaked = sum(1 for passage in passages if passage and passage in trained_text)
    return Splits(rows, [tokenizer.decode(c) for c in held], len(heldout), leaked)


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def heldout_jsonl(texts: list[str]) -> bytes:
    return "".join(json.dumps({"text": t}) + "\n" for t in texts).encode()


def parse_heldout(data: bytes) -> list[str]:
    return [json.loads(line)["text"] for line in data.decode("utf-8").splitlines() if line.strip()]
