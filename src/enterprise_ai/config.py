"""Which model the course talks to, read from one variable: ``COURSE_BACKEND``.

Every notebook calls :func:`enterprise_ai.llm.get_client`, which reads the settings here. The
model IDs of all backends live in :data:`BACKENDS` and nowhere else, so switching the whole
course to another provider is a one-line change in ``.env``.

Settings come from the process environment first, then from a ``.env`` file (found by walking up
from the working directory). The course never switches to a paid backend on its own: without
``COURSE_BACKEND`` it is always ``local``, even when an OpenAI key happens to be set.

Introduced in notebooks/00_setup.ipynb.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

from dotenv import dotenv_values, find_dotenv

from enterprise_ai.errors import MissingSettingError, UnknownBackendError

__all__ = [
    "BACKENDS",
    "Backend",
    "Settings",
    "is_loopback_host",
    "load_settings",
    "mask_secret",
]


@dataclass(frozen=True)
class Backend:
    """One row of the backend table: what the course needs to know about a provider."""

    name: str
    default_model: str
    description: str
    paid: bool
    needs: tuple[str, ...] = ()


#: The one table of backends and model IDs. Change a model here and every notebook follows.
BACKENDS: dict[str, Backend] = {
    "local": Backend(
        name="local",
        default_model="SmolLM2-135M-Instruct",
        description="SmolLM2-135M-Instruct in llama.cpp on this machine (offline, no key)",
        paid=False,
    ),
    "openai": Backend(
        name="openai",
        default_model="gpt-4.1-mini",
        description="OpenAI API (api.openai.com)",
        paid=True,
        needs=("OPENAI_API_KEY",),
    ),
    "azure": Backend(
        name="azure",
        default_model="(your deployment name)",
        description="Azure OpenAI resource, e.g. a Data Zone deployment in an EU region",
        paid=True,
        needs=(
            "AZURE_OPENAI_ENDPOINT",
            "AZURE_OPENAI_API_KEY",
            "AZURE_OPENAI_DEPLOYMENT",
        ),
    ),
    "compatible": Backend(
        name="compatible",
        default_model="(the first model the server lists)",
        description="an OpenAI-compatible server: Ollama, vLLM, LM Studio, a class server",
        paid=False,
        needs=("OPENAI_BASE_URL",),
    ),
}

#: Azure OpenAI API version used when OPENAI_API_VERSION is not set (supports the Responses API).
DEFAULT_AZURE_API_VERSION = "2025-04-01-preview"

_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")


def is_loopback_host(host: str) -> bool:
    """True only when ``host`` certainly means this machine: a loopback IP, or ``localhost``.

    Only literal addresses are judged, with :mod:`ipaddress`; nothing is looked up. Any other
    DNS name counts as remote, because a name can point anywhere: ``127.0.0.1.nip.io`` looks
    local but is resolved by a public DNS service, and a learner told "your data stays on this
    machine" must be able to rely on it. ``0.0.0.0`` and ``::`` mean "every interface", so they
    are not loopback either.

    Args:
        host: A host name or address, as in a URL (IPv6 may keep its brackets).

    >>> [is_loopback_host(h) for h in ("127.0.0.1", "[::1]", "localhost", "127.0.0.1.nip.io")]
    [True, True, True, False]
    """
    host = host.strip()
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:  # a DNS name (or a malformed address): not provably local
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_loopback


def mask_secret(value: str | None) -> str:
    """Show that a secret is set without showing it: ``sk-…9f3a`` style, or ``(not set)``."""
    if not value:
        return "(not set)"
    if len(value) <= 8:
        return "****"
    return f"{value[:3]}…{value[-4:]}"


@dataclass(frozen=True)
class Settings:
    """The resolved configuration for one backend. Secrets are kept out of ``repr``."""

    backend: str
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None
    dotenv_path: str | None = None

    @property
    def is_loopback(self) -> bool:
        """True when requests never leave this machine (see :func:`is_loopback_host`)."""
        if self.backend == "local":
            return True
        return is_loopback_host(urlparse(self.base_url or "").hostname or "")


def _read_environment() -> tuple[dict[str, str], str | None]:
    """Merge ``.env`` (lower priority) with the process environment (higher priority)."""
    values: dict[str, str] = {}
    path = None
    if os.environ.get("COURSE_DOTENV", "1") != "0":
        path = find_dotenv(usecwd=True) or None
        if path:
            values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    values.update(os.environ)
    return values, path


def _require(env: dict[str, str], name: str, backend: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise MissingSettingError(
            f"COURSE_BACKEND={backend} needs {name}. Put it in .env (see .env.example), "
            "or set COURSE_BACKEND=local to use the offline model (see notebooks/00_setup.ipynb)."
        )
    return value


def load_settings(backend: str | None = None) -> Settings:
    """Read the settings for ``backend`` (default: ``COURSE_BACKEND``, else ``local``).

    Raises:
        UnknownBackendError: the backend name is not in :data:`BACKENDS`.
        MissingSettingError: a variable the backend needs is not set; the message names it.

    Example:
        >>> load_settings("local").backend
        'local'
    """
    env, dotenv_path = _read_environment()
    name = (backend or env.get("COURSE_BACKEND") or "local").strip().lower()
    if name not in BACKENDS:
        raise UnknownBackendError(
            f"COURSE_BACKEND={name!r} is not a backend this course knows. "
            f"Use one of: {', '.join(BACKENDS)} (default: local)."
        )
    model = env.get("COURSE_MODEL", "").strip() or None

    if name == "local":
        return Settings("local", model=BACKENDS["local"].default_model, dotenv_path=dotenv_path)

    if name == "openai":
        key = _require(env, "OPENAI_API_KEY", name)
        return Settings(
            "openai",
            model=model or BACKENDS["openai"].default_model,
            base_url=env.get("OPENAI_BASE_URL", "").strip() or "https://api.openai.com/v1",
            api_key=key,
            dotenv_path=dotenv_path,
        )

    if name == "azure":
        endpoint = _require(env, "AZURE_OPENAI_ENDPOINT", name).rstrip("/")
        key = _require(env, "AZURE_OPENAI_API_KEY", name)
        deployment = _require(env, "AZURE_OPENAI_DEPLOYMENT", name)
        version = env.get("OPENAI_API_VERSION", "").strip() or DEFAULT_AZURE_API_VERSION
        if not _API_VERSION.match(version):
            raise MissingSettingError(
                f"OPENAI_API_VERSION={version!r} is not an Azure OpenAI API version. "
                f"Use the form YYYY-MM-DD or YYYY-MM-DD-preview, e.g. {DEFAULT_AZURE_API_VERSION}."
            )
        if not endpoint.startswith("https://"):
            raise MissingSettingError(
                f"AZURE_OPENAI_ENDPOINT={endpoint!r} should start with https:// "
                "(copy it from the Azure portal: Resource → Keys and Endpoint)."
            )
        return Settings(
            "azure",
            model=model or deployment,
            base_url=endpoint,
            api_key=key,
            api_version=version,
            dotenv_path=dotenv_path,
        )

    # compatible
    base_url = _require(env, "OPENAI_BASE_URL", name).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise MissingSettingError(
            f"OPENAI_BASE_URL={base_url!r} is not a URL. Use e.g. http://localhost:11434/v1 "
            "(Ollama) or the address your trainer gave you."
        )
    return Settings(
        "compatible",
        model=model,
        base_url=base_url,
        api_key=env.get("OPENAI_API_KEY", "").strip() or None,
        dotenv_path=dotenv_path,
    )
