"""COURSE_BACKEND=compatible against a real OpenAI-compatible server on this machine.

A second llama.cpp server (not the per-process one ``get_client()`` starts for ``local``) stands
in for Ollama, vLLM or a trainer's ``course serve``: the course reaches it only through
``OPENAI_BASE_URL``, as it would reach any other server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from enterprise_ai import llm
from enterprise_ai.errors import EndpointUnreachableError
from enterprise_ai.local_server import MODEL_NAME, LocalServer, model_path


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def compatible_backend(monkeypatch: pytest.MonkeyPatch, server: LocalServer) -> None:
    for name in ("COURSE_MODEL", "OPENAI_API_KEY", "COURSE_MODEL_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_DOTENV", "0")
    monkeypatch.setenv("COURSE_BACKEND", "compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.base_url}/v1")


def test_default_model_is_discovered_from_the_server() -> None:
    assert llm.default_model() == MODEL_NAME


def test_course_model_overrides_discovery(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_MODEL", "my-own-alias")
    assert llm.default_model() == "my-own-alias"


def test_chat_completion_through_the_compatible_server(server: LocalServer) -> None:
    client = llm.get_client()
    assert str(client.base_url) == f"{server.base_url}/v1/"
    reply = client.chat.completions.create(
        model=llm.default_model(),
        messages=[{"role": "user", "content": "Name one colour."}],
        max_tokens=10,
        temperature=0,
    )
    assert (reply.choices[0].message.content or "").strip()
    assert reply.model == MODEL_NAME
    assert reply.usage is not None and reply.usage.prompt_tokens > 0


def test_backend_info_says_data_stays_on_this_machine(server: LocalServer) -> None:
    info = llm.backend_info()
    assert info.backend == "compatible"
    assert info.endpoint == f"{server.base_url}/v1"
    assert info.data_leaves_machine is False
    assert info.data_goes_to.startswith("nowhere")
    assert info.api_key == "(not set)"


def test_a_server_that_refuses_the_key_says_which_variable_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path())
    params.n_ctx = 512
    params.cpuparams.n_threads = 1
    params.verbosity = -1
    params.api_keys = ["fake-class-server-key-0123456789"]
    protected = xllamacpp.Server(params)
    try:
        url = f"{protected.listening_address.rstrip('/')}/v1"
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("OPENAI_API_KEY", "fake-wrong-key-0123456789abcd")
        with pytest.raises(EndpointUnreachableError) as caught:
            llm.get_client()
        assert f"{url} refused the API key (401)" in str(caught.value)
        assert "OPENAI_API_KEY" in str(caught.value)
        assert "fake-wrong-key" not in str(caught.value)
    finally:
        del protected
