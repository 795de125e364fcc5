"""Backend settings, error messages, clients and backend_info, without a model and without network.

Every test starts from an environment with none of the course's variables set and ``.env``
reading switched off, so the developer's own ``.env`` or shell never changes a result.
"""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from enterprise_ai import config, llm
from enterprise_ai.errors import (
    EndpointUnreachableError,
    MissingSettingError,
    UnknownBackendError,
)

FAKE_KEY = "fake-test-key-1234567890abcdefghij"
FAKE_AZURE_KEY = "fake-azure-key-0123456789abcdefghij"
AZURE_ENDPOINT = "https://isar-cycles.openai.azure.com"
pytestmark = pytest.mark.usefixtures("clean_course_env")


def _set_azure(monkeypatch: pytest.MonkeyPatch, *, skip: str | None = None) -> None:
    values = {
        "COURSE_BACKEND": "azure",
        "AZURE_OPENAI_ENDPOINT": AZURE_ENDPOINT,
        "AZURE_OPENAI_API_KEY": FAKE_AZURE_KEY,
        "AZURE_OPENAI_DEPLOYMENT": "gpt-4-1-mini-eu",
    }
    for name, value in values.items():
        if name != skip:
            monkeypatch.setenv(name, value)


# --- which backend --------------------------------------------------------------------------


def test_default_backend_is_local() -> None:
    settings = config.load_settings()
    assert settings.backend == "local"
    assert settings.model == "SmolLM2-135M-Instruct"
    assert settings.is_loopback


def test_default_stays_local_even_with_an_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    settings = config.load_settings()
    assert settings.backend == "local", "a key alone must never switch the course to a paid API"
    assert settings.api_key is None
    info = llm.backend_info()
    assert (info.backend, info.paid, info.data_leaves_machine) == ("local", False, False)


def test_backend_name_is_case_and_space_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", " Local ")
    assert config.load_settings().backend == "local"


def test_argument_overrides_course_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")  # would fail: no key
    assert config.load_settings("local").backend == "local"


def test_unknown_backend_lists_every_valid_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "gemini")
    with pytest.raises(UnknownBackendError) as caught:
        config.load_settings()
    message = str(caught.value)
    assert "'gemini'" in message
    missing = [name for name in config.BACKENDS if name not in message]
    assert not missing, f"the message should list {missing}: {message}"


# --- openai ---------------------------------------------------------------------------------


def test_openai_without_key_names_the_variable_and_the_free_alternative(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    with pytest.raises(MissingSettingError) as caught:
        config.load_settings()
    assert "OPENAI_API_KEY" in str(caught.value)
    assert "COURSE_BACKEND=local" in str(caught.value)


def test_openai_blank_key_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "   ")
    with pytest.raises(MissingSettingError, match="OPENAI_API_KEY"):
        config.load_settings()


def test_openai_settings_use_the_model_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    settings = config.load_settings()
    assert settings.model == config.BACKENDS["openai"].default_model
    assert settings.base_url == "https://api.openai.com/v1"
    assert llm.default_model() == config.BACKENDS["openai"].default_model
    monkeypatch.setenv("COURSE_MODEL", "gpt-4.1")
    assert llm.default_model() == "gpt-4.1"


def test_get_client_openai_builds_a_client_without_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    client = llm.get_client()
    assert type(client) is openai.OpenAI
    assert str(client.base_url) == "https://api.openai.com/v1/"
    assert client.api_key == FAKE_KEY


def test_openai_client_to_a_closed_port_names_the_url(
    monkeypatch: pytest.MonkeyPatch, closed_loopback_url: str
) -> None:
    url = closed_loopback_url
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")
    client = llm.get_client().with_options(max_retries=0)
    with pytest.raises(openai.APIConnectionError) as caught:
        client.models.list()
    cause = str(caught.value.__cause__)
    assert url in cause, f"the cause should name {url}: {cause!r}"
    assert "course doctor" in cause
    assert FAKE_KEY not in cause


# --- azure ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "missing", ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_DEPLOYMENT"]
)
def test_azure_names_each_missing_variable(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    _set_azure(monkeypatch, skip=missing)
    with pytest.raises(MissingSettingError) as caught:
        config.load_settings()
    assert missing in str(caught.value)
    assert "COURSE_BACKEND=azure" in str(caught.value)


def test_azure_rejects_a_malformed_api_version(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_azure(monkeypatch)
    monkeypatch.setenv("OPENAI_API_VERSION", "latest")
    with pytest.raises(MissingSettingError) as caught:
        config.load_settings()
    message = str(caught.value)
    assert "OPENAI_API_VERSION='latest'" in message
    assert "YYYY-MM-DD" in message
    assert config.DEFAULT_AZURE_API_VERSION in message


def test_azure_accepts_a_dated_api_version(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_azure(monkeypatch)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    assert config.load_settings().api_version == "2024-10-21"


def test_azure_endpoint_must_be_https(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_azure(monkeypatch)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "isar-cycles.openai.azure.com")
    with pytest.raises(MissingSettingError, match="should start with https://"):
        config.load_settings()


def test_get_client_azure_targets_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_azure(monkeypatch)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", AZURE_ENDPOINT + "/")  # trailing slash is fine
    client = llm.get_client()
    assert isinstance(client, openai.AzureOpenAI)
    assert str(client.base_url) == f"{AZURE_ENDPOINT}/openai/deployments/gpt-4-1-mini-eu/"
    assert client.default_query == {"api-version": config.DEFAULT_AZURE_API_VERSION}
    assert llm.default_model() == "gpt-4-1-mini-eu"


# --- compatible -----------------------------------------------------------------------------


def test_compatible_without_base_url_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "compatible")
    with pytest.raises(MissingSettingError) as caught:
        config.load_settings()
    assert "OPENAI_BASE_URL" in str(caught.value)


def test_compatible_base_url_must_be_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:11434")
    with pytest.raises(MissingSettingError, match="'localhost:11434' is not a URL"):
        config.load_settings()


def test_unreachable_compatible_endpoint_names_url_and_doctor(
    monkeypatch: pytest.MonkeyPatch, closed_loopback_url: str
) -> None:
    url = f"{closed_loopback_url}/v1"
    monkeypatch.setenv("COURSE_BACKEND", "compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    with pytest.raises(EndpointUnreachableError) as caught:
        llm.get_client()
    assert url in str(caught.value)
    assert "course doctor" in str(caught.value)
    with pytest.raises(EndpointUnreachableError, match="course doctor"):
        llm.default_model()


# --- backend_info and secrets ---------------------------------------------------------------


def _all_renderings(info: llm.BackendInfo) -> str:
    return "\n".join([repr(info), str(info), str(info.as_dict()), info._repr_html_()])


def test_backend_info_local_keeps_data_on_the_machine() -> None:
    info = llm.backend_info()
    assert info.backend == "local"
    assert info.model == "SmolLM2-135M-Instruct"
    assert info.data_leaves_machine is False
    assert info.data_goes_to.startswith("nowhere")
    assert info.paid is False
    assert info.api_key == "(none needed)"


def test_backend_info_openai_masks_the_key_and_says_data_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    info = llm.backend_info()
    assert info.data_leaves_machine is True
    assert "api.openai.com" in info.data_goes_to
    assert info.paid is True
    assert info.api_key == config.mask_secret(FAKE_KEY)
    assert FAKE_KEY not in _all_renderings(info)
    assert FAKE_KEY not in repr(config.load_settings())


def test_backend_info_azure_masks_the_key_and_names_the_region_caveat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _set_azure(monkeypatch)
    info = llm.backend_info()
    assert info.data_leaves_machine is True
    assert "isar-cycles.openai.azure.com" in info.data_goes_to
    assert "EU" in info.data_goes_to
    assert info.model == "gpt-4-1-mini-eu"
    assert FAKE_AZURE_KEY not in _all_renderings(info)
    assert FAKE_AZURE_KEY not in repr(config.load_settings())


@pytest.mark.parametrize(
    ("base_url", "leaves"),
    [
        ("http://localhost:11434/v1", False),
        ("http://127.0.0.1:8080/v1", False),
        ("http://[::1]:8080/v1", False),
        ("http://LOCALHOST:8080/v1", False),
        ("http://127.8.0.1:8080/v1", False),
        ("http://[::ffff:127.0.0.1]:8080/v1", False),
        ("https://llm.isar-cycles.example/v1", True),
        ("http://192.168.1.20:8080/v1", True),
        # Names that look local but are answered by public DNS: the data leaves the machine.
        ("http://127.0.0.1.nip.io:8080/v1", True),
        ("http://localhost.isar-cycles.example/v1", True),
        ("http://127.example/v1", True),
        ("http://[::ffff:10.0.0.1]:8080/v1", True),
    ],
)
def test_backend_info_compatible_says_where_data_goes(
    monkeypatch: pytest.MonkeyPatch, base_url: str, leaves: bool
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    info = llm.backend_info()  # sends nothing: no server listens at most of these
    assert info.data_leaves_machine is leaves
    assert info.data_goes_to.startswith("nowhere") is not leaves
    assert info.endpoint == base_url
    assert FAKE_KEY not in _all_renderings(info)


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),  # every interface, not loopback
        ("::", False),
        ("", False),
        ("localhost.", False),  # a DNS name other than exactly "localhost"
        ("127.0.0.1.nip.io", False),
        ("127.1", False),  # a shorthand ipaddress does not accept: judged remote, to be safe
    ],
)
def test_is_loopback_host_trusts_literal_addresses_only(host: str, local: bool) -> None:
    assert config.is_loopback_host(host) is local


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "(not set)"),
        ("", "(not set)"),
        ("short", "****"),
        ("12345678", "****"),
        (FAKE_KEY, "fak…ghij"),
    ],
)
def test_mask_secret(value: str | None, shown: str) -> None:
    assert config.mask_secret(value) == shown


# --- .env -----------------------------------------------------------------------------------


@pytest.fixture
def dotenv_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory (and a subfolder) with a .env that selects OpenAI."""
    (tmp_path / ".env").write_text(
        f"COURSE_BACKEND=openai\nOPENAI_API_KEY={FAKE_KEY}\nCOURSE_MODEL=gpt-from-dotenv\n",
        encoding="utf-8",
    )
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # found by walking up, as from a notebook
    monkeypatch.setenv("COURSE_DOTENV", "1")
    return tmp_path


def test_dotenv_is_read(dotenv_dir: Path) -> None:
    settings = config.load_settings()
    assert settings.backend == "openai"
    assert settings.api_key == FAKE_KEY
    assert settings.model == "gpt-from-dotenv"
    assert Path(settings.dotenv_path or "") == dotenv_dir / ".env"


def test_process_environment_wins_over_dotenv(
    dotenv_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_MODEL", "gpt-from-shell")
    assert config.load_settings().model == "gpt-from-shell"
    monkeypatch.setenv("COURSE_BACKEND", "local")
    assert config.load_settings().backend == "local"


def test_course_dotenv_0_ignores_the_file(
    dotenv_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURSE_DOTENV", "0")
    settings = config.load_settings()
    assert settings.backend == "local"
    assert settings.dotenv_path is None
