"""Token counts the worker makes itself, without a tokenizer. tiktoken downloads its BPE files at first
use; bpe-openai 0.1.4 ships o200k/cl100k in its wheel (75 MB installed, checked 2026-11) but only for
OpenAI's own families, and OpenAI always reports usage. Answers without usage come from compatible
servers (vLLM, Ollama, proxies) running other families, whose tokenizer is unknown here.

Two figures, each on the safe side of its use: `approx_tokens` (3 characters a token; English averages
~4) sizes parts and prices an answer whose usage the endpoint did not report, and is marked as an
estimate wherever it is recorded; `input_bound` (a BPE token is at least one byte) bounds a request's
cost before it is sent.
"""

import math

CHARS_PER_TOKEN = 3
MESSAGE_OVERHEAD_TOKENS = 64
"""Room for the chat template's role and separator tokens around the two messages."""


def approx_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def input_bound(*texts: str) -> int:
    """An upper bound of the input tokens of a request made of `texts`."""
    return sum(len(t.encode()) for t in texts) + MESSAGE_OVERHEAD_TOKENS
