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

Introduced in notebooks/00_setup.ipynb.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

import httpx2
import openai

from enterprise_ai.config import BACKENDS, Settings, load_settings, mask_secret
from enterprise_ai.errors import EndpointUnreachableError

__all__ = ["BackendInfo", "backend_info", "default_model", "get_async_client", "get_client"]

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
