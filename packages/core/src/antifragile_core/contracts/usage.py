"""Token usage reported by every LLM-backed activity."""

from .base import Model


class TokenUsage(Model):
    """Tokens and requests spent by one activity call."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    web_searches: int = 0
    """Hosted web-search calls the responses show (not the permission to search)."""

    def __add__(self, other: "TokenUsage") -> "TokenUsage":
        return TokenUsage(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            web_searches=self.web_searches + other.web_searches,
        )
