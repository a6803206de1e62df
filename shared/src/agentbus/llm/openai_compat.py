"""Backend for any OpenAI-compatible `/chat/completions` endpoint (OpenAI, vLLM, Ollama, LiteLLM)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from agentbus.llm.errors import (
    LLMRequestError,
    LLMResponseError,
    LLMTimeoutError,
    LLMUnavailableError,
)
from agentbus.llm.jsonparse import parse_json_object
from agentbus.llm.metrics import LLMMetrics
from agentbus.llm.retrying import BackoffWait, is_retryable, parse_retry_after
from agentbus.llm.settings import LLMSettings
from agentbus.llm.tokens import estimate_tokens
from agentbus.llm.types import Completion, CompletionRequest, Usage

log = logging.getLogger(__name__)

USER_AGENT = "agentbus-llm/0.1"
_EXCERPT = 300


def json_instruction(keys: tuple[str, ...]) -> str:
    """The sentence added to the system prompt in JSON mode (OpenAI requires the word JSON)."""
    if keys:
        names = ", ".join(json.dumps(k) for k in keys)
        return f"Reply with a single JSON object with exactly these keys: {names}."
    return "Reply with a single JSON object."


def _excerpt(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    # OpenAI-style errors carry a readable message; prefer it to the raw body.
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        message = body["error"].get("message")
        if isinstance(message, str):
            return message[:_EXCERPT]
    return response.text[:_EXCERPT]


def _retry_reason(error: BaseException | None) -> str:
    if isinstance(error, LLMTimeoutError):
        return "timeout"
    if isinstance(error, LLMUnavailableError) and error.status is not None:
        return str(error.status)
    return "transport"


def _usage(body: dict[str, Any], request: CompletionRequest, text: str) -> Usage:
    raw = body.get("usage")
    if isinstance(raw, dict):
        prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
        if isinstance(prompt, int) and isinstance(completion, int):
            return Usage(prompt_tokens=prompt, completion_tokens=completion)
    # Some servers omit usage; an estimate keeps budgets and metrics meaningful.
    return Usage(estimate_tokens(request.prompt_text()), estimate_tokens(text))


class OpenAICompatibleBackend:
    """Call `<base_url>/chat/completions` with retries, timeouts and JSON mode."""

    name = "openai"

    def __init__(
        self,
        settings: LLMSettings,
        *,
        agent: str = "",
        metrics: LLMMetrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.agent = agent
        self.metrics = metrics
        self.url = settings.base_url.rstrip("/") + "/chat/completions"
        headers = {"User-Agent": USER_AGENT}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
            transport=transport,
        )
        # httpx's read timeout applies per socket read; this bounds a whole attempt too, so a
        # server trickling bytes cannot hold an agent past its timeout.
        self._attempt_deadline_s = settings.connect_timeout_s + settings.timeout_s

    def payload(self, request: CompletionRequest) -> dict[str, Any]:
        """The JSON body sent for `request`."""
        system = request.system
        if request.wants_json:
            system = f"{system}\n\n{json_instruction(request.expected_keys)}".strip()
        messages = [{"role": "system", "content": system}] if system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        body: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": request.max_tokens or self.settings.max_tokens,
            "temperature": (self.settings.temperature if request.temperature is None
                            else request.temperature),
        }
        if request.wants_json and self.settings.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    async def complete(self, request: CompletionRequest) -> Completion:
        """Send `request`, retrying 429, 5xx, timeouts and transport errors with bounded waits."""
        payload = self.payload(request)
        attempts = self.settings.max_retries + 1
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=BackoffWait(initial_s=self.settings.retry_initial_wait_s,
                             max_s=self.settings.retry_max_wait_s),
            retry=retry_if_exception(is_retryable),
            before_sleep=lambda state: self._on_retry(state, request),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                body = await self._post(payload, attempt.retry_state.attempt_number, attempts)
        return self._completion(body, request)

    def _on_retry(self, state: RetryCallState, request: CompletionRequest) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        reason = _retry_reason(error)
        log.warning("LLM attempt %d failed (%s), retrying in %.2fs",
                    state.attempt_number, error, state.upcoming_sleep)
        if self.metrics is not None:
            self.metrics.retries.labels(
                agent=request.agent or self.agent, backend=self.name, reason=reason).inc()

    async def _post(self, payload: dict[str, Any], attempt: int, attempts: int) -> dict[str, Any]:
        where = f"{self.url} (attempt {attempt} of {attempts})"
        try:
            async with asyncio.timeout(self._attempt_deadline_s):
                response = await self._client.post(self.url, json=payload)
        except (httpx.TimeoutException, TimeoutError) as error:
            raise LLMTimeoutError(
                f"the LLM endpoint did not answer within {self.settings.timeout_s}s at {where}; "
                "raise AGENTBUS_LLM_TIMEOUT_S or check the endpoint's load"
            ) from error
        except httpx.TransportError as error:
            raise LLMUnavailableError(
                f"cannot reach the LLM endpoint at {where}: {error!r}; "
                "check AGENTBUS_LLM_BASE_URL and that the server is running"
            ) from error
        except httpx.RequestError as error:  # undecodable body, redirect loop: not transient
            raise LLMResponseError(
                f"the LLM endpoint at {where} sent an unusable answer: {error!r}; check that "
                "AGENTBUS_LLM_BASE_URL points at an OpenAI-compatible API"
            ) from error
        self._raise_for_status(response, where)
        try:
            body = response.json()
        except ValueError as error:
            raise LLMResponseError(
                f"the LLM endpoint at {self.url} answered {response.status_code} with a body "
                f"that is not JSON ({response.text[:_EXCERPT]!r}); check that "
                "AGENTBUS_LLM_BASE_URL points at an OpenAI-compatible API (usually ending in /v1)"
            ) from error
        if not isinstance(body, dict):
            raise LLMResponseError(
                f"the LLM endpoint at {self.url} answered a JSON {type(body).__name__}, not an "
                "object; check that AGENTBUS_LLM_BASE_URL points at an OpenAI-compatible API")
        return body

    def _raise_for_status(self, response: httpx.Response, where: str) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = _excerpt(response)
        if status in (408, 429) or status >= 500:
            raise LLMUnavailableError(
                f"the LLM endpoint answered {status} at {where}: {detail!r}; it is overloaded or "
                "failing, check it or raise AGENTBUS_LLM_MAX_RETRIES",
                status=status,
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            hint = "check AGENTBUS_LLM_API_KEY"
        elif status == 404:
            hint = "check AGENTBUS_LLM_BASE_URL (usually ending in /v1) and AGENTBUS_LLM_MODEL"
        else:
            hint = "the request was refused as sent; check AGENTBUS_LLM_MODEL and the prompt size"
        raise LLMRequestError(
            f"the LLM endpoint refused the request with {status} at {self.url}: {detail!r}; {hint}",
            status=status,
        )

    def _completion(self, body: dict[str, Any], request: CompletionRequest) -> Completion:
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise LLMResponseError(
                f"the LLM endpoint at {self.url} answered without `choices` "
                f"({json.dumps(body)[:_EXCERPT]}); check that it implements /chat/completions")
        choice = choices[0]
        message = choice.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            refusal = message.get("refusal") if isinstance(message, dict) else None
            why = f"the model refused: {refusal!r}" if refusal else "the message has no text content"
            raise LLMResponseError(f"the LLM endpoint at {self.url} returned no text ({why})")
        data = parse_json_object(content, expected_keys=request.expected_keys) \
            if request.wants_json else None
        finish = choice.get("finish_reason")
        model = body.get("model")
        return Completion(
            text=content,
            usage=_usage(body, request, content),
            model=model if isinstance(model, str) and model else self.settings.model,
            backend=self.name,
            data=data,
            finish_reason=finish if isinstance(finish, str) else None,
        )

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.aclose()

