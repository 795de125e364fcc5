"""One entry point to a language model: ``get_client()`` returns an ``openai.OpenAI`` client.

Notebooks call the official ``openai`` SDK exactly as production code would; only the client
they get depends on ``COURSE_BACKEND``:

============  ===============================================  ==========================
backend       what answers                                      data leaves the machine?
============  ===============================================  ==========================
local         SmolLM2-135M-Instruct, llama.cpp on 127.0.0.1     no
openai        api.openai.com                                    yes, to OpenAI
azure         your Azure OpenAI resource (e.g. EU Data Zone)    yes, to your Azure region
compatible    OPENAI_BASE_URL (Ollama, vLLM, class server)      only if that host is remote
============  ===============================================  ==========================

For ``local``, an adapter sits between the SDK and llama.cpp so that tool calls and the
Responses API's structured output work the same as on OpenAI (see :mod:`enterprise_ai.adapter`).

The model's own limits are measured here too (lesson 01): :func:`count_tokens` and
:func:`token_pieces` ask the llama.cpp server's tokenizer, :func:`context_window` its
``n_ctx``, and :func:`measure_latency` streams one answer from any backend and times it. What
those tokens cost in euros is :mod:`enterprise_ai.costs`.

Introduced in notebooks/00_setup.ipynb.
"""

from __future__ import annotations

import html
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

import httpx2
import openai

from enterprise_ai.config import BACKENDS, Settings, load_settings, mask_secret
from enterprise_ai.errors import EndpointUnreachableError

__all__ = [
    "BackendInfo",
    "Latency",
    "backend_info",
    "context_window",
    "count_tokens",
    "default_model",
    "get_async_client",
    "get_client",
    "measure_latency",
    "token_pieces",
]

_DOCTOR = "Run `course doctor` in a terminal to check your setup."


class _ExplainingTransport(httpx2.BaseTransport):
    """Wraps a transport so a refused connection names the URL and the next step.

    The SDK reports every network failure as ``APIConnectionError: Connection error.``; the
    exception raised here becomes its cause, so the traceback says *which* URL failed. It keeps
    the original httpx2 type: the SDK only wraps (and retries) httpx2 errors, anything else
    would escape it unwrapped.
    """

    def __init__(self, inner: httpx2.BaseTransport, hint: str) -> None:
        self._inner = inner
        self._hint = hint

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self._inner.handle_request(request)
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as err:
            origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
            raise type(err)(
                f"Cannot reach {origin} ({type(err).__name__}). {self._hint} {_DOCTOR}",
                request=request,
            ) from err

    def close(self) -> None:
        self._inner.close()


def _hint_for(settings: Settings) -> str:
    if settings.backend == "compatible":
        return (
            "Is the server running (Ollama: `ollama serve`; class server: ask your trainer)? "
            "Check OPENAI_BASE_URL."
        )
    if settings.backend == "local":
        return "The local model server stopped; restart the kernel."
    return "Check your network or proxy (HTTPS_PROXY), or set COURSE_BACKEND=local."


def _http_client(settings: Settings) -> httpx2.Client:
    if settings.backend == "local":
        from enterprise_ai.adapter import LocalAdapterTransport

        inner: httpx2.BaseTransport = LocalAdapterTransport()
    else:
        inner = httpx2.HTTPTransport()
    return httpx2.Client(transport=_ExplainingTransport(inner, _hint_for(settings)), timeout=120)


def _check_reachable(base_url: str, api_key: str | None) -> list[str]:
    """Ask a compatible server for its models; fail fast with the URL if nobody answers."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        reply = httpx2.get(f"{base_url}/models", headers=headers, timeout=5)
    except httpx2.HTTPError as err:
        raise EndpointUnreachableError(
            f"Nothing answers at {base_url} ({type(err).__name__}). Is the server running? "
            f"Check OPENAI_BASE_URL, or set COURSE_BACKEND=local. {_DOCTOR}"
        ) from None
    if reply.status_code == 401:
        raise EndpointUnreachableError(
            f"{base_url} refused the API key (401). Set OPENAI_API_KEY to the key your "
            "trainer or admin gave you."
        )
    if reply.status_code >= 400:
        return []
    return [m.get("id", "") for m in reply.json().get("data", [])]


@lru_cache(maxsize=8)
def _compatible_models(base_url: str, api_key: str | None) -> tuple[str, ...]:
    return tuple(_check_reachable(base_url, api_key))


def _connection(settings: Settings) -> dict[str, Any]:
    """Where and how to connect: the keyword arguments shared by the sync and async clients."""
    if settings.backend == "local":
        from enterprise_ai.local_server import get_local_server

        server = get_local_server()  # starts llama.cpp on first use
        return {"base_url": f"{server.base_url}/v1", "api_key": "local-no-key-needed"}
    if settings.backend == "azure":
        return {
            "azure_endpoint": settings.base_url,
            "api_key": settings.api_key,
            "api_version": settings.api_version,
            "azure_deployment": settings.model,
        }
    if settings.backend == "compatible":
        _compatible_models(settings.base_url, settings.api_key)  # fail fast, naming the URL
    return {"base_url": settings.base_url, "api_key": settings.api_key or "no-key-needed"}


def get_client(backend: str | None = None) -> openai.OpenAI:
    """Return an ``openai.OpenAI`` client for the active backend.

    Args:
        backend: override ``COURSE_BACKEND`` for this call (``"local"``, ``"openai"``, …).

    Raises:
        enterprise_ai.errors.ConfigError: unknown backend or a missing variable (named).
        enterprise_ai.errors.EndpointUnreachableError: a ``compatible`` server does not answer.

    Example:
        >>> client = get_client()                                   # doctest: +SKIP
        >>> client.chat.completions.create(model=default_model(),    # doctest: +SKIP
        ...     messages=[{"role": "user", "content": "Hello"}])
    """
    settings = load_settings(backend)
    client_class = openai.AzureOpenAI if settings.backend == "azure" else openai.OpenAI
    return client_class(**_connection(settings), http_client=_http_client(settings))


def get_async_client(backend: str | None = None) -> openai.AsyncOpenAI:
    """Like :func:`get_client`, for ``async`` code such as the openai-agents SDK."""
    settings = load_settings(backend)
    http_client = None
    if settings.backend == "local":
        from enterprise_ai.adapter import AsyncLocalAdapterTransport

        http_client = httpx2.AsyncClient(transport=AsyncLocalAdapterTransport(), timeout=120)
    client_class = openai.AsyncAzureOpenAI if settings.backend == "azure" else openai.AsyncOpenAI
    return client_class(**_connection(settings), http_client=http_client)


def default_model(backend: str | None = None) -> str:
    """The model ID to pass as ``model=`` for the active backend (from the one model table).

    For ``compatible`` servers without ``COURSE_MODEL``, the first model the server lists.
    """
    settings = load_settings(backend)
    if settings.model:
        return settings.model
    models = _compatible_models(settings.base_url, settings.api_key)
    if not models:
        raise EndpointUnreachableError(
            f"{settings.base_url} lists no models. Set COURSE_MODEL to the model to use "
            "(Ollama: e.g. COURSE_MODEL=llama3.2)."
        )
    return models[0]


@dataclass(frozen=True)
class BackendInfo:
    """What a learner (and a data-protection officer) needs to know about the active backend."""

    backend: str
    model: str
    endpoint: str
    data_leaves_machine: bool
    data_goes_to: str
    api_key: str
    paid: bool

    def as_dict(self) -> dict[str, object]:
        """The fields as a plain dict (secrets are already masked)."""
        return asdict(self)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k.replace('_', ' '))}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in self.as_dict().items()
        )
        return f"<table>{rows}</table>"


def backend_info(backend: str | None = None) -> BackendInfo:
    """Describe the active backend: model, endpoint, and where prompts are processed.

    It starts nothing and sends nothing, so it is safe to call before any model call.
    """
    settings = load_settings(backend)
    row = BACKENDS[settings.backend]
    host = urlparse(settings.base_url or "").hostname or ""
    if settings.backend == "local":
        endpoint = "http://127.0.0.1 (started on first use, random free port)"
        goes_to = "nowhere: llama.cpp runs on this machine"
    elif settings.backend == "openai":
        endpoint = settings.base_url or ""
        goes_to = f"OpenAI ({host}); region per your OpenAI project's data residency"
    elif settings.backend == "azure":
        endpoint = settings.base_url or ""
        goes_to = (
            f"your Azure OpenAI resource ({host}); stays in the EU only with an EU region "
            "or an EU Data Zone deployment"
        )
    else:
        endpoint = settings.base_url or ""
        goes_to = (
            "nowhere: the server runs on this machine"
            if settings.is_loopback
            else f"the server at {host} (your company's or your trainer's)"
        )
    model = settings.model or row.default_model
    return BackendInfo(
        backend=settings.backend,
        model=model,
        endpoint=endpoint,
        data_leaves_machine=not settings.is_loopback,
        data_goes_to=goes_to,
        api_key=mask_secret(settings.api_key) if settings.backend != "local" else "(none needed)",
        paid=row.paid,
    )


# ---------------------------------------------------------------------------------------------
# Measuring the model: tokens and context window (llama.cpp's own endpoints)
# ---------------------------------------------------------------------------------------------


def _local_base_url(base_url: str | None) -> str:
    if base_url:
        return base_url.rstrip("/")
    from enterprise_ai.local_server import get_local_server

    return get_local_server().base_url


def _post_tokenize(text: str, *, with_pieces: bool, base_url: str | None) -> list[Any]:
    url = f"{_local_base_url(base_url)}/tokenize"
    try:
        # trust_env=False: the server is on this machine; a proxy must not see the text.
        reply = httpx2.post(
            url, json={"content": text, "with_pieces": with_pieces}, timeout=30, trust_env=False
        )
        reply.raise_for_status()
    except httpx2.HTTPError as err:
        raise EndpointUnreachableError(
            f"Counting tokens at {url} failed ({type(err).__name__}: {err}). count_tokens() "
            "needs a llama.cpp server: the local backend starts one, or pass base_url= of a "
            "running llama.cpp server."
        ) from None
    return reply.json()["tokens"]


def count_tokens(text: str, *, base_url: str | None = None) -> int:
    """How many tokens the local model's tokenizer makes of ``text``.

    Asks the llama.cpp server's ``/tokenize`` endpoint, so the count is exact for the local
    model. Hosted models use other tokenizers (OpenAI's GPT-4.1 family uses ``o200k_base``), so
    the same text gives a different count there: use the ``usage`` of a real reply to budget
    for them. Chat messages also add a few tokens of template around each message, so a
    reply's ``usage.prompt_tokens`` is larger than the count of the text alone.

    Args:
        text: any text.
        base_url: a llama.cpp server (default: the course's local server, started if needed).

    Raises:
        EndpointUnreachableError: the server does not answer (the message names the URL).

    Example:
        >>> count_tokens("Where is my order?")    # doctest: +SKIP
        5
    """
    return len(_post_tokenize(text, with_pieces=False, base_url=base_url))


def token_pieces(text: str, *, base_url: str | None = None) -> list[str]:
    """The pieces the local tokenizer cuts ``text`` into, to see *why* a text costs what it does.

    Example:
        >>> token_pieces("Bestellung")            # doctest: +SKIP
        ['Best', 'ell', 'ung']
    """
    return [str(t["piece"]) for t in _post_tokenize(text, with_pieces=True, base_url=base_url)]


def context_window(*, base_url: str | None = None) -> int:
    """The context window of the local server in tokens (``n_ctx`` per request slot).

    Prompt and answer together must fit in it; a longer request is refused with HTTP 400.

    Example:
        >>> context_window()                      # doctest: +SKIP
        4096
    """
    url = f"{_local_base_url(base_url)}/props"
    try:
        reply = httpx2.get(url, timeout=10, trust_env=False)
        reply.raise_for_status()
    except httpx2.HTTPError as err:
        raise EndpointUnreachableError(
            f"Reading the context window from {url} failed ({type(err).__name__}: {err}). "
            "Is the local server running? Restart the kernel to start it again."
        ) from None
    return int(reply.json()["default_generation_settings"]["n_ctx"])


# ---------------------------------------------------------------------------------------------
# Measuring the model: latency
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """How long one streamed answer took, and how fast its tokens came.

    Attributes:
        first_token_s: seconds until the first piece of text arrived (what a customer feels).
        total_s: seconds until the answer was complete.
        completion_tokens: tokens written (from ``usage``, or pieces counted if no usage came).
        text: the answer.
    """

    first_token_s: float
    total_s: float
    completion_tokens: int
    text: str

    @property
    def tokens_per_s(self) -> float:
        """Writing speed after the first token (0 if there was nothing to time)."""
        writing = self.total_s - self.first_token_s
        return (self.completion_tokens - 1) / writing if writing > 0 else 0.0

    def as_dict(self) -> dict[str, float | int]:
        """The timings rounded for a table (the answer text left out)."""
        values = asdict(self)
        values.pop("text")
        values["tokens_per_s"] = self.tokens_per_s
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in values.items()}


def measure_latency(
    client: Any,
    *,
    model: str,
    messages: list[dict[str, Any]],
    max_tokens: int = 80,
    temperature: float = 0.0,
    seed: int = 42,
) -> Latency:
    """Stream one answer and time it: time to first token, total time, tokens per second.

    Streaming is the only way to see the first token's time from the outside; without it you
    only learn the total. The first token waits for the whole prompt to be read, so long
    prompts (many retrieved articles) delay it; the rest depends on the answer's length.

    Args:
        client: an ``openai.OpenAI`` client (:func:`enterprise_ai.llm.get_client`).
        model: the model ID.
        messages: the chat messages to send.
        max_tokens: the answer length limit.
        temperature: sampling temperature (0: repeatable).
        seed: fixes any sampling randomness.

    Example:
        >>> latency = measure_latency(client, model=model, messages=msgs)  # doctest: +SKIP
        >>> latency.first_token_s < latency.total_s                        # doctest: +SKIP
        True
    """
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        stream=True,
        stream_options={"include_usage": True},
    )
    first: float | None = None
    pieces: list[str] = []
    usage_tokens: int | None = None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            if first is None:
                first = time.perf_counter() - started
            pieces.append(chunk.choices[0].delta.content)
        if getattr(chunk, "usage", None) is not None:
            usage_tokens = chunk.usage.completion_tokens
    total = time.perf_counter() - started
    return Latency(
        first_token_s=total if first is None else first,
        total_s=total,
        completion_tokens=usage_tokens if usage_tokens is not None else len(pieces),
        text="".join(pieces),
    )
