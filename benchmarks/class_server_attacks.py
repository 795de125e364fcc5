"""Held-out attacks on the class server: do its safeguards hold against attacks nobody tuned for?

    nice -n 10 .venv/bin/python benchmarks/class_server_attacks.py     # about 10 minutes, 2 cores
    .venv/bin/python benchmarks/class_server_attacks.py --only O02,H04    # a few cases, no RESULTS

``course serve`` promises (its module docstring, book/setup.md "A class server", issue 15) that a
hostile learner on the room's network cannot take the model from the room, reach llama.cpp's
admin endpoints, or get a key or a prompt into the trainer's log. Its own tests and benchmarks
were written by the people who built it. The cases here were written by someone who read only
those promises, the public OpenAI API reference, llama.cpp's server README and HTTP/1.1: they
come from ``benchmarks/data/class_server_attacks.json``, one at a time, against the real server
(``course serve`` on loopback with a key, SmolLM2 with four slots) in a subprocess whose output
is the log a trainer would see.

While each attack runs, a *canary* (a normal learner: the ``openai`` SDK from another loopback
address) asks a 30-token question. After each case ``GET /health`` must answer. Cases are
measured one at a time and on their own: after a case that failed or ran longer than
:data:`QUIET_AFTER_S`, the server is restarted (about 2 s), because an answer it is still
writing for that case would otherwise slow the next cases and charge them with its failure.

The rules, fixed before the first run and not changed after it (``expect`` in the data file):

- ``refuse``: a 4xx whose body has the OpenAI error shape (``error.message`` a string of at
  least 15 characters, ``error.type`` a string, an ``error.code`` key), within 5 s;
- ``refuse_or_bounded``: as ``refuse``, or a 200 whose answer has at most ``bound`` completion
  tokens (4096 when the request names no limit) and arrives within 60 s;
- ``not_served``: a 4xx within 5 s that carries none of llama.cpp's admin data;
- ``unauthorised``: a 401 in the OpenAI error shape within 5 s;
- ``no_5xx``: an HTTP answer below 500 within 5 s, no admin data;
- ``no_bypass``: an answer below 500 within 5 s that is not a 2xx carrying a model list, a
  chat answer or admin data;
- ``raw``: for each connection, the answers' statuses in the order given, at least
  ``min_responses`` of them, all within 5 s, no admin data (a connection the server closes
  without an answer passes only where ``min_responses`` is 0);
- ``behaviour``: the rule of each behaviour function (its docstring).

Every case also needs: the canary answered within 20 s; ``/health`` 200 within 5 s afterwards;
no reply that contains the key or one of the case's ``forbid`` strings; and no new log line
that contains a part of the key, the case's marker (a unique string in every body the case
sends) or the canary's question.

Writes section (p) of RESULTS.md (not with ``--only``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import gzip
import json
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from machine import ROOT, describe_machine, git_commit, load_average
from results_file import markdown_table, replace_section

SECTION = "## (p) Held-out attacks on the class server (`benchmarks/class_server_attacks.py`)"
DATA = ROOT / "benchmarks" / "data" / "class_server_attacks.json"

REFUSE_WITHIN_S = 5.0
ANSWER_WITHIN_S = 60.0
CANARY_WITHIN_S = 20.0
HEALTH_WITHIN_S = 5.0
#: A case that ran longer than this may leave work behind: restart before the next one.
QUIET_AFTER_S = 20.0
MAX_COMPLETION_TOKENS = 4096

CANARY_ADDRESS = "127.0.0.77"
HEALTH_ADDRESS = "127.0.0.99"
CANARY_QUESTION = "In one sentence: what is a support ticket at a bicycle shop?"

#: Strings that only llama.cpp's own endpoints (/slots, /props, /metrics, /tokenize, ...) return.
#: Not ``"n_ctx"``: the allowed /v1/models answer carries it in its ``meta``.
ADMIN_MARKERS = (
    b'"id_task"',
    b"default_generation_settings",
    b'"total_slots"',
    b"llamacpp:",
    b'"model_path"',
    b'"n_erased"',
    b'"tokens":',
    b'"build_info"',
)


# --------------------------------------------------------------------------------------------
# Raw HTTP: every attack goes over a plain socket, so nothing normalises paths or headers.
# --------------------------------------------------------------------------------------------


@dataclass
class Reply:
    """One HTTP answer, or the lack of one: ``status`` None means none arrived."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0
    outcome: str = "answered"  # answered, closed, reset, timeout, refused, incomplete


def connect(source: str, port: int, timeout: float, rcvbuf: int | None = None) -> socket.socket:
    """A TCP connection to the server on loopback from the address ``source``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def reset_close(sock: socket.socket) -> None:
    """Close with a TCP reset, like a laptop whose lid was shut mid-answer."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _parse_one(buf: bytes, start: int, method: str, closed: bool) -> tuple[Reply | None, int]:
    """Parse one response at ``buf[start:]``; None while it is incomplete."""
    end = buf.find(b"\r\n\r\n", start)
    if end < 0:
        return None, start
    lines = buf[start:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return Reply(None, outcome="garbled", body=buf[start:]), len(buf)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    pos = end + 4
    if 100 <= status < 200 or status in (204, 304) or method == "HEAD":
        return Reply(status, headers), pos
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        p = pos
        while True:
            nl = buf.find(b"\r\n", p)
            if nl < 0:
                return None, start
            try:
                size = int(buf[p:nl].split(b";")[0].strip() or b"0", 16)
            except ValueError:
                return Reply(status, headers, bytes(body), outcome="garbled"), len(buf)
            p = nl + 2
            if size == 0:
                trailer_end = buf.find(b"\r\n", p)
                if trailer_end < 0:
                    return None, start
                if trailer_end == p:
                    return Reply(status, headers, bytes(body)), p + 2
                trailer_end = buf.find(b"\r\n\r\n", p)
                if trailer_end < 0:
                    return None, start
                return Reply(status, headers, bytes(body)), trailer_end + 4
            if len(buf) < p + size + 2:
                return None, start
            body += buf[p : p + size]
            p += size + 2
    if "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            length = 0
        if len(buf) >= pos + length:
            return Reply(status, headers, buf[pos : pos + length]), pos + length
        return None, start
    if closed:
        return Reply(status, headers, buf[pos:]), len(buf)
    return None, start


def read_replies(
    sock: socket.socket, methods: list[str], started: float, deadline: float
) -> list[Reply]:
    """Read the answers to ``methods`` (pipelined, in order) until all came, a close or deadline.

    An interim answer (``100 Continue``) is returned as an answer of its own, in its place.
    """
    buf = b""
    replies: list[Reply] = []
    done = 0
    pos = 0
    closed = False
    outcome = "answered"
    while done < len(methods):
        while done < len(methods):
            reply, pos = _parse_one(buf, pos, methods[done], closed)
            if reply is None:
                break
            reply.seconds = time.perf_counter() - started
            replies.append(reply)
            interim = reply.status is not None and 100 <= reply.status < 200
            if not interim or reply.status == 101:
                done += 1
            if reply.outcome == "garbled":
                done = len(methods)
        if done >= len(methods) or closed:
            break
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            outcome = "timeout"
            break
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            outcome = "timeout"
            break
        except ConnectionResetError:
            outcome, chunk = "reset", b""
        except OSError:
            outcome, chunk = "closed", b""
        if not chunk:
            closed = True
            if outcome == "answered":
                outcome = "closed"
            continue
        buf += chunk
    if done < len(methods):
        head = buf[pos:]
        status = _first_status(head)
        if status is not None:
            replies.append(
                Reply(
                    status, body=head, seconds=time.perf_counter() - started, outcome="incomplete"
                )
            )
        else:
            replies.append(Reply(None, seconds=time.perf_counter() - started, outcome=outcome))
    return replies


def _first_status(raw: bytes) -> int | None:
    """The status code of the response that ``raw`` starts with, if it starts with one."""
    if raw.startswith(b"HTTP/"):
        with contextlib.suppress(IndexError, ValueError):
            return int(raw.split(b" ", 2)[1])
    return None


def exchange(
    source: str,
    port: int,
    data: bytes | list[tuple[bytes, float]],
    methods: list[str],
    timeout: float,
) -> list[Reply]:
    """Send ``data`` (or parts with a pause before each) and read the answers to ``methods``."""
    started = time.perf_counter()
    deadline = started + timeout
    try:
        sock = connect(source, port, timeout)
    except OSError as error:
        return [Reply(None, outcome=f"refused ({error.__class__.__name__})")]
    try:
        parts = [(data, 0.0)] if isinstance(data, bytes) else data
        for chunk, pause in parts:
            if pause:
                time.sleep(pause)
            try:
                sock.sendall(chunk)
            except OSError:
                break  # the server closed early; its answer, if any, is still readable
        return read_replies(sock, methods, started, deadline)
    finally:
        sock.close()


def http_request(
    method: str,
    target: str,
    port: int,
    headers: list[tuple[str, str]],
    body: bytes | None = None,
    close: bool = True,
) -> bytes:
    """The bytes of one HTTP/1.1 request, path sent exactly as given."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    names = {name.lower() for name, _ in headers}
    lines += [f"{name}: {value}" for name, value in headers]
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


# --------------------------------------------------------------------------------------------
# Reading answers
# --------------------------------------------------------------------------------------------


def json_body(reply: Reply) -> Any:
    try:
        return json.loads(reply.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def openai_error_shape(reply: Reply) -> bool:
    """``{"error": {"message", "type", "code"}}`` with a message worth reading."""
    body = json_body(reply)
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return False
    error = body["error"]
    message = error.get("message")
    return (
        isinstance(message, str)
        and len(message.strip()) >= 15
        and isinstance(error.get("type"), str)
        and "code" in error
    )


def completion_tokens(reply: Reply) -> int | None:
    """Completion tokens of an answer: its usage, else counted from a stream, else estimated."""
    if "text/event-stream" in reply.headers.get("content-type", ""):
        return stream_tokens(reply.body)[0]
    body = json_body(reply)
    if not isinstance(body, dict):
        return None
    usage = body.get("usage")
    if isinstance(usage, dict):
        for name in ("completion_tokens", "output_tokens"):
            if isinstance(usage.get(name), int):
                return usage[name]
    text = json.dumps(body.get("choices") or body.get("output") or "")
    return len(text) // 3 if text else None


def stream_tokens(raw: bytes) -> tuple[int, bool]:
    """(tokens, ended) of an SSE answer: usage if sent, else the chunks with content."""
    tokens = 0
    usage_tokens = None
    ended = False
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            ended = True
            continue
        try:
            event = json.loads(payload)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("error"):
            ended = True
        usage = event.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            usage_tokens = usage["completion_tokens"]
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content") or delta.get("tool_calls"):
                tokens += 1
            if choice.get("finish_reason"):
                ended = True
    return (usage_tokens if usage_tokens is not None else tokens), ended


def has_admin_data(reply: Reply) -> bool:
    return any(marker in reply.body for marker in ADMIN_MARKERS)


def status_text(replies: list[Reply]) -> str:
    """``200``, ``404×13`` or ``401, 404``: what the case's requests got, in short."""
    labels = [str(r.status) if r.status is not None else r.outcome for r in replies]
    if not labels:
        return "-"
    if len(set(labels)) == 1:
        return labels[0] + (f"×{len(labels)}" if len(labels) > 1 else "")
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{k}×{v}" if v > 1 else k for k, v in counts.items())


# --------------------------------------------------------------------------------------------
# Judging one reply by its rule
# --------------------------------------------------------------------------------------------


def judge_reply(expect: str, reply: Reply, bound: int = MAX_COMPLETION_TOKENS) -> list[str]:
    """Why ``reply`` breaks the rule ``expect``; an empty list when it keeps it."""
    status = reply.status
    s = reply.seconds
    got = f"{status if status is not None else reply.outcome} after {s:.1f} s"
    refused = status is not None and 400 <= status < 500
    if expect == "refuse":
        if not refused:
            return [f"wanted a 4xx, got {got}"]
        if not openai_error_shape(reply):
            return [f"{status} not in the OpenAI error shape"]
        return [] if s <= REFUSE_WITHIN_S else [f"refusal took {s:.1f} s"]
    if expect == "refuse_or_bounded":
        if refused:
            return judge_reply("refuse", reply)
        if status != 200:
            return [f"wanted a 4xx or a bounded 200, got {got}"]
        if reply.outcome == "incomplete":
            return [f"200 whose answer had not ended after {s:.1f} s"]
        tokens = completion_tokens(reply)
        problems = []
        if tokens is None:
            problems.append("200 without a readable answer")
        elif tokens > min(bound, MAX_COMPLETION_TOKENS):
            problems.append(f"{tokens} completion tokens, bound {bound}")
        if s > ANSWER_WITHIN_S:
            problems.append(f"answer took {s:.1f} s")
        return problems
    if expect == "not_served":
        if not refused:
            return [f"wanted a 4xx, got {got}"]
        if has_admin_data(reply):
            return ["llama.cpp admin data in the answer"]
        return [] if s <= REFUSE_WITHIN_S else [f"took {s:.1f} s"]
    if expect == "unauthorised":
        if status != 401:
            return [f"wanted 401, got {got}"]
        if not openai_error_shape(reply):
            return ["401 not in the OpenAI error shape"]
        return [] if s <= REFUSE_WITHIN_S else [f"took {s:.1f} s"]
    if expect == "no_5xx":
        if status is None or status >= 500:
            return [f"wanted an answer below 500, got {got}"]
        if has_admin_data(reply):
            return ["llama.cpp admin data in the answer"]
        return [] if s <= REFUSE_WITHIN_S else [f"took {s:.1f} s"]
    if expect == "no_bypass":
        if status is None or status >= 500:
            return [f"wanted an answer below 500, got {got}"]
        leaked = has_admin_data(reply) or b'"data"' in reply.body or b'"choices"' in reply.body
        if 200 <= status < 300 and leaked:
            return [f"{status} served content without a key"]
        return [] if s <= REFUSE_WITHIN_S else [f"took {s:.1f} s"]
    raise ValueError(f"unknown rule {expect!r} in {DATA.name}")


def status_allowed(status: int | None, allowed: list[Any]) -> bool:
    return status is not None and any(
        status == want or (want == "4xx" and 400 <= status < 500) for want in allowed
    )


# --------------------------------------------------------------------------------------------
# Building request bodies
# --------------------------------------------------------------------------------------------


@dataclass
class Target:
    """What a case needs to know about the running server."""

    port: int
    key: str
    model: str
    marker: str
    source: str  # the attacker's loopback address for this case

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def substitute(value: Any, target: Target) -> Any:
    """Fill $MODEL, $MARKER, $KEY, ... into every string of ``value``."""
    if isinstance(value, str):
        key = target.key
        basic = base64.b64encode(f"learner:{key}".encode()).decode()
        for name, text in (
            ("$KEY_MINUS_ONE", key[:-1]),
            ("$KEY_BASIC", basic),
            ("$KEY_UPPER", key.upper()),
            ("$KEY", key),
            ("$MODEL", target.model),
            ("$MARKER", target.marker),
            ("$PORT", str(target.port)),
        ):
            value = value.replace(name, text)
        return value
    if isinstance(value, list):
        return [substitute(item, target) for item in value]
    if isinstance(value, dict):
        return {substitute(k, target): substitute(v, target) for k, v in value.items()}
    return value


def chat(target: Target, text: str = "Say hi.", max_tokens: int | None = 32, **extra: Any) -> dict:
    body: dict[str, Any] = {
        "model": target.model,
        "messages": [{"role": "user", "content": f"{target.marker} {text}"}],
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body | extra


def _dumps(body: Any) -> bytes:
    return json.dumps(body).encode()


def generate(spec: dict, target: Target) -> tuple[bytes, list[tuple[str, str]]]:
    """Bodies too big or too odd to store: (body bytes, extra headers)."""
    name = spec["name"]
    if name == "dry_breakers":
        samplers = ["dry", "top_k", "typ_p", "top_p", "min_p", "xtc", "temperature"] * 2000
        breakers = [f"b{i}" for i in range(spec["count"])]
        body = chat(
            target,
            dry_multiplier=5.0,
            dry_base=1.75,
            dry_allowed_length=1,
            dry_penalty_last_n=-1,
            dry_sequence_breakers=breakers,
            samplers=samplers,
        )
        return _dumps(body), []
    if name == "deep_schema":
        depth = spec["depth"]
        inner = '{"type": "string"}'
        schema = '{"type": "object", "properties": {"a": ' * depth + inner + "}}" * depth
        head = _dumps(chat(target, "Answer.", 64))[:-1]
        wrapper = ', "response_format": {"type": "json_schema", "json_schema": {"name": "deep", '
        return head + (wrapper + f'"schema": {schema}}}}}}}').encode(), []
    if name == "many_tools":
        tools = [
            {
                "type": "function",
                "function": {
                    "name": f"tool_{i}",
                    "description": f"Tool number {i}.",
                    "parameters": {
                        "type": "object",
                        "properties": {"x": {"type": "string"}, "y": {"type": "integer"}},
                        "required": ["x"],
                    },
                },
            }
            for i in range(spec["count"])
        ]
        return _dumps(chat(target, "Use a tool.", 64, tools=tools)), []
    if name == "big_enum_tool":
        values = [f"v{i:05d}" for i in range(spec["count"])]
        tool = {
            "type": "function",
            "function": {
                "name": "pick",
                "description": "Pick a value.",
                "parameters": {
                    "type": "object",
                    "properties": {"value": {"type": "string", "enum": values}},
                    "required": ["value"],
                },
            },
        }
        return _dumps(chat(target, "Pick one.", 64, tools=[tool], tool_choice="required")), []
    if name == "many_stop":
        stops = [f"stop-{i}" for i in range(spec["count"])]
        return _dumps(chat(target, stop=stops)), []
    if name == "many_logit_bias":
        bias = {str(100 + i): 5 for i in range(spec["count"])}
        return _dumps(chat(target, logit_bias=bias)), []
    if name == "many_messages":
        messages = [
            {"role": "user" if i % 2 == 0 else "assistant", "content": "hi"}
            for i in range(spec["count"] - 1)
        ]
        messages.append({"role": "user", "content": f"{target.marker} hi"})
        return _dumps({"model": target.model, "max_tokens": 32, "messages": messages}), []
    if name == "huge_message":
        text = ("bike " * (spec["chars"] // 5))[: spec["chars"]]
        return _dumps(chat(target, text)), []
    if name == "deep_field":
        depth = spec["depth"]
        head = _dumps(chat(target))[:-1]
        return head + b', "metadata": ' + b"[" * depth + b"]" * depth + b"}", []
    if name == "many_parts":
        parts = [{"type": "text", "text": "a"} for _ in range(spec["count"] - 1)]
        parts.append({"type": "text", "text": f"{target.marker} hi"})
        body = {
            "model": target.model,
            "max_tokens": 32,
            "messages": [{"role": "user", "content": parts}],
        }
        return _dumps(body), []
    if name == "any_of_schema":
        options = [
            {
                "type": "object",
                "properties": {f"k{i}": {"type": "integer"}, f"s{i}": {"type": "string"}},
                "required": [f"k{i}", f"s{i}"],
            }
            for i in range(spec["count"])
        ]
        fmt = {"type": "json_schema", "json_schema": {"name": "any", "schema": {"anyOf": options}}}
        return _dumps(chat(target, "Answer.", 64, response_format=fmt)), []
    if name == "responses_many_inputs":
        items = [{"role": "user", "content": "hi"} for _ in range(spec["count"] - 1)]
        items.append({"role": "user", "content": f"{target.marker} hi"})
        body = {"model": target.model, "max_output_tokens": 64, "input": items}
        return _dumps(body), []
    if name == "gzip_bomb":
        raw = b"\0" * (spec["megabytes"] * 1_000_000)
        return gzip.compress(raw, compresslevel=9), [("Content-Encoding", "gzip")]
    if name == "multipart_body":
        boundary = "rt" + secrets.token_hex(8)
        part = _dumps(chat(target)).decode()
        text = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="body"\r\n'
            f"Content-Type: application/json\r\n\r\n{part}\r\n--{boundary}--\r\n"
        )
        return text.encode(), [("Content-Type", f"multipart/form-data; boundary={boundary}")]
    if name == "utf16_body":
        text = json.dumps(chat(target), ensure_ascii=False)
        return text.encode("utf-16"), [("Content-Type", "application/json; charset=utf-16")]
    raise ValueError(f"unknown generator {name!r} in {DATA.name}")


def send_spec(spec: dict, case: dict, target: Target) -> Reply:
    """Send one request described in the data file and return its answer."""
    spec = substitute(spec, target)
    auth = spec.get("auth", case.get("auth", True))
    headers: list[tuple[str, str]] = []
    body: bytes | None = None
    if "generate" in spec:
        body, extra = generate(spec["generate"], target)
        headers += extra
    elif "json" in spec:
        body = _dumps(spec["json"])
    elif "body_text" in spec:
        body = spec["body_text"].encode("utf-8", errors="surrogatepass")
    names = {name.lower() for name, _ in headers}
    if body is not None and "content-type" not in names:
        headers.append(("Content-Type", "application/json"))
    custom = spec.get("headers", {})
    if auth and "Authorization" not in custom:
        headers.append(("Authorization", f"Bearer {target.key}"))
    headers += list(custom.items())
    method = spec.get("method", "POST" if body is not None else "GET")
    path = spec.get("path", "/v1/chat/completions")
    timeout = ANSWER_WITHIN_S + 5
    data = http_request(method, path, target.port, headers, body)
    return exchange(target.source, target.port, data, [method], timeout)[0]


# --------------------------------------------------------------------------------------------
# Builders: HTTP tricks that need bytes a data file cannot hold comfortably
# --------------------------------------------------------------------------------------------


def _chunked(body: bytes, chunk: int) -> bytes:
    out = b"".join(
        f"{len(body[i : i + chunk]):x}\r\n".encode() + body[i : i + chunk] + b"\r\n"
        for i in range(0, len(body), chunk)
    )
    return out + b"0\r\n\r\n"


def _chunked_head(target: Target) -> bytes:
    return (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"
        f"Authorization: Bearer {target.key}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()


def build_chunked_small(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    body = _dumps(chat(target))
    data = _chunked_head(target) + _chunked(body, 17)
    reply = exchange(target.source, target.port, data, ["POST"], ANSWER_WITHIN_S + 5)[0]
    return [reply], judge_reply("refuse_or_bounded", reply, case.get("bound", 32))


def build_chunked_huge(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    filler = "x" * 2_000_000
    body = _dumps(chat(target, filler))
    data = _chunked_head(target) + _chunked(body, 65536)
    reply = exchange(target.source, target.port, data, ["POST"], ANSWER_WITHIN_S)[0]
    return [reply], judge_reply("refuse", reply)


def build_cl_te_smuggle(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """CL says 4 bytes, TE says chunked; the chunked end is followed by a second request."""
    smuggled = (
        f"GET /slots HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"
        f"Authorization: Bearer {target.key}\r\nConnection: close\r\n\r\n"
    )
    body = f"0\r\n\r\n{smuggled}".encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"
        f"Authorization: Bearer {target.key}\r\nContent-Type: application/json\r\n"
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    replies = exchange(target.source, target.port, head + body, ["POST", "GET"], REFUSE_WITHIN_S)
    problems = []
    first = replies[0]
    if first.status is None and first.outcome not in ("closed", "reset"):
        problems.append(f"first request: {first.outcome}")
    if first.status is not None and not 400 <= first.status < 500:
        problems.append(f"first request got {first.status}, wanted a 4xx")
    for reply in replies:
        if has_admin_data(reply):
            problems.append("smuggled /slots answered")
        if reply.status is not None and reply.status >= 500:
            problems.append(f"{reply.status}")
    return replies, problems


def build_double_authorization(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    wrong = target.key[:-1] + ("0" if target.key[-1] != "0" else "1")
    replies, problems = [], []
    for first, second in ((wrong, target.key), (target.key, wrong)):
        data = http_request(
            "GET",
            "/v1/models",
            target.port,
            [("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {second}")],
        )
        reply = exchange(target.source, target.port, data, ["GET"], REFUSE_WITHIN_S + 1)[0]
        replies.append(reply)
        problems += judge_reply("no_5xx", reply)
    return replies, problems


def build_big_header(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    data = http_request(
        "GET",
        "/v1/models",
        target.port,
        [("Authorization", f"Bearer {target.key}"), ("X-Padding", "p" * 65536)],
    )
    reply = exchange(target.source, target.port, data, ["GET"], REFUSE_WITHIN_S + 1)[0]
    problems = []
    if reply.status is None:
        if reply.outcome not in ("closed", "reset") or reply.seconds > REFUSE_WITHIN_S:
            problems.append(f"{reply.outcome} after {reply.seconds:.1f} s")
    elif not 400 <= reply.status < 500:
        problems.append(f"wanted a 4xx or a close, got {reply.status}")
    return [reply], problems


BUILDERS: dict[str, Callable[[dict, Target], tuple[list[Reply], list[str]]]] = {
    "chunked_small": build_chunked_small,
    "chunked_huge": build_chunked_huge,
    "cl_te_smuggle": build_cl_te_smuggle,
    "double_authorization": build_double_authorization,
    "big_header": build_big_header,
}


def run_raw(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Raw connections from the data file: send bytes, compare the statuses in order."""
    all_replies: list[Reply] = []
    problems: list[str] = []
    for conn in substitute(case["raw"], target):
        replies = exchange(
            target.source,
            target.port,
            conn["data"].encode("latin-1"),
            conn["methods"],
            REFUSE_WITHIN_S + 1,
        )
        answered = [r for r in replies if r.status is not None]
        if len(answered) < conn["min_responses"]:
            problems.append(f"{len(answered)} answers, wanted {conn['min_responses']}")
        for index, reply in enumerate(answered):
            if index < len(conn["statuses"]) and not status_allowed(
                reply.status, conn["statuses"][index]
            ):
                problems.append(f"answer {index + 1}: {reply.status}")
            if has_admin_data(reply):
                problems.append(f"answer {index + 1}: admin data")
        for reply in replies:
            if reply.status is None and reply.outcome == "timeout":
                problems.append("no answer and no close within 5 s")
            elif reply.seconds > REFUSE_WITHIN_S:
                problems.append(f"took {reply.seconds:.1f} s")
        all_replies += replies
    return all_replies, problems


# --------------------------------------------------------------------------------------------
# Behaviour: what a careless or hostile client does with connections and time
# --------------------------------------------------------------------------------------------


def _stream_request(target: Target, max_tokens: int, text: str = "Write a long story.") -> bytes:
    body = _dumps(
        chat(target, text, max_tokens, stream=True, stream_options={"include_usage": True})
    )
    headers = [("Authorization", f"Bearer {target.key}"), ("Content-Type", "application/json")]
    return http_request("POST", "/v1/chat/completions", target.port, headers, body)


def _hold_stream(target: Target, read_bytes: int, hold_s: float) -> tuple[list[Reply], list[str]]:
    started = time.perf_counter()
    sock = connect(target.source, target.port, 5, rcvbuf=2048)
    sock.sendall(_stream_request(target, 2000))
    received = b""
    dropped = False
    while time.perf_counter() - started < hold_s:
        time.sleep(1.0)
        if read_bytes:
            try:
                sock.settimeout(0.5)
                chunk = sock.recv(read_bytes)
                if not chunk:
                    dropped = True
                    break
                received += chunk
            except TimeoutError:
                pass
            except OSError:
                dropped = True
                break
    reset_close(sock)
    status = _first_status(received)
    outcome = "dropped by server" if dropped else "held"
    reply = Reply(status, body=received, seconds=time.perf_counter() - started, outcome=outcome)
    problems = [f"{status}"] if status is not None and status >= 500 else []
    return [reply], problems


def stream_unread(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: the canary and /health only; the unread stream must not hold the room."""
    return _hold_stream(target, 0, 15.0)


def stream_slow_read(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: the canary and /health only; a 64-byte-a-second reader must not hold the room."""
    return _hold_stream(target, 64, 15.0)


def _sources(target: Target, count: int) -> list[str]:
    base = target.source.rsplit(".", 1)[0]
    third = int(base.split(".")[2]) + 100
    return [f"127.0.{third}.{i + 1}" for i in range(count)]


def abandon_streams(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: the canary and /health; abandoned streams must stop costing the model."""
    replies = []
    for source in _sources(target, 4):
        started = time.perf_counter()
        sock = connect(source, target.port, 10)
        sock.sendall(_stream_request(target, 3000))
        received = b""
        with contextlib.suppress(OSError):
            while b"data:" not in received and time.perf_counter() - started < 10:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                received += chunk
        reset_close(sock)
        replies.append(
            Reply(_first_status(received), body=received, seconds=time.perf_counter() - started)
        )
    problems = [f"{r.status}" for r in replies if r.status is not None and r.status >= 500]
    return replies, problems


def abandon_plain(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: the canary and /health; abandoned plain requests must stop costing the model."""
    body = _dumps(chat(target, "Write a very long story about bicycles.", 3000))
    headers = [("Authorization", f"Bearer {target.key}"), ("Content-Type", "application/json")]
    sockets = []
    for source in _sources(target, 4):
        sock = connect(source, target.port, 5)
        sock.sendall(http_request("POST", "/v1/chat/completions", target.port, headers, body))
        sockets.append(sock)
    time.sleep(1.5)
    for sock in sockets:
        reset_close(sock)
    return [Reply(None, seconds=1.5, outcome="abandoned")], []


def _parallel(jobs: list[Callable[[], Reply]]) -> list[Reply]:
    results: list[Reply | None] = [None] * len(jobs)

    def run(index: int) -> None:
        try:
            results[index] = jobs[index]()
        except OSError as error:
            results[index] = Reply(None, outcome=error.__class__.__name__)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(ANSWER_WITHIN_S + 10)
    return [r if r is not None else Reply(None, outcome="timeout") for r in results]


def many_streams_one_learner(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: each stream gets an answer below 500 within 60 s with at most 300 tokens."""

    def one() -> Reply:
        return exchange(
            target.source, target.port, _stream_request(target, 300), ["POST"], ANSWER_WITHIN_S
        )[0]

    replies = _parallel([one] * 6)
    problems = []
    for reply in replies:
        if reply.status is None or reply.status >= 500:
            problems.append(f"stream: {reply.status or reply.outcome} after {reply.seconds:.1f} s")
        elif reply.outcome == "incomplete":
            problems.append(f"stream not ended after {reply.seconds:.1f} s")
        elif reply.status == 200 and stream_tokens(reply.body)[0] > 300:
            problems.append(f"stream of {stream_tokens(reply.body)[0]} tokens")
    return replies, problems


def one_key_many_addresses(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: each answer is ``refuse_or_bounded`` with bound 400."""
    body = _dumps(chat(target, "Write a long story about bicycles.", 400))
    headers = [("Authorization", f"Bearer {target.key}"), ("Content-Type", "application/json")]
    data = http_request("POST", "/v1/chat/completions", target.port, headers, body)

    def job(source: str) -> Callable[[], Reply]:
        return lambda: exchange(source, target.port, data, ["POST"], ANSWER_WITHIN_S + 5)[0]

    replies = _parallel([job(source) for source in _sources(target, 8)])
    problems = [p for reply in replies for p in judge_reply("refuse_or_bounded", reply, 400)]
    return replies, problems


def wrong_key_spray(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: every near-miss key gets ``unauthorised``."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    wrong = [c for c in alphabet if c != target.key[-1]][:40]
    replies, problems = [], []
    for char in wrong:
        headers = [("Authorization", f"Bearer {target.key[:-1]}{char}")]
        data = http_request("GET", "/v1/models", target.port, headers)
        reply = exchange(target.source, target.port, data, ["GET"], REFUSE_WITHIN_S + 1)[0]
        replies.append(reply)
        problems += judge_reply("unauthorised", reply)
    return replies, sorted(set(problems))


def forwarded_header_spoof(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: at least one 429 among the 80 (the spoofed headers did not multiply the allowance),
    and no answer of 500 or more."""
    body = _dumps(chat(target, "hi", 1))
    counter = iter(range(1, 10_000))
    lock = threading.Lock()
    replies: list[Reply] = []

    def worker() -> None:
        sock = None
        for _ in range(20):
            with lock:
                n = next(counter)
            fake = f"10.{n // 250}.{n % 250}.7"
            headers = [
                ("Authorization", f"Bearer {target.key}"),
                ("Content-Type", "application/json"),
                ("X-Forwarded-For", fake),
                ("X-Real-IP", fake),
                ("Forwarded", f"for={fake}"),
                ("True-Client-IP", fake),
            ]
            data = http_request("POST", "/v1/chat/completions", target.port, headers, body, False)
            started = time.perf_counter()
            try:
                if sock is None:
                    sock = connect(target.source, target.port, 30)
                sock.sendall(data)
                reply = read_replies(sock, ["POST"], started, started + 30)[0]
            except OSError as error:
                reply = Reply(None, outcome=error.__class__.__name__)
            if reply.status is None or reply.headers.get("connection", "") == "close":
                if sock is not None:
                    sock.close()
                sock = None
            with lock:
                replies.append(reply)
        if sock is not None:
            sock.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(ANSWER_WITHIN_S)
    problems = []
    if not any(r.status == 429 for r in replies):
        problems.append(f"no 429 among {len(replies)} requests")
    if any(r.status is None or r.status >= 500 for r in replies):
        problems.append("answers of 500+ or none")
    return replies, problems


def _server_constant(name: str, default: float) -> float:
    """A limit the server's docstring names (HEADER_TIMEOUT_S, BODY_TIMEOUT_S), read at run time."""
    try:
        from enterprise_ai import serve

        return float(getattr(serve, name))
    except (ImportError, AttributeError, TypeError, ValueError):
        return default


def trickling_headers(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: the server closes every trickling connection within HEADER_TIMEOUT_S + 5 s."""
    limit = _server_constant("HEADER_TIMEOUT_S", 10.0) + 5.0
    sockets: list[tuple[socket.socket, float]] = []
    for source in _sources(target, 4):
        for _ in range(60):
            try:
                sock = connect(source, target.port, 2)
                sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n")
                sockets.append((sock, time.perf_counter()))
            except OSError:
                break
    open_count = len(sockets)
    closed_at: dict[int, float] = {}
    end = time.perf_counter() + limit + 1
    while time.perf_counter() < end and len(closed_at) < open_count:
        for index, (sock, _) in enumerate(sockets):
            if index in closed_at:
                continue
            try:
                sock.sendall(b"X")
                sock.settimeout(0.001)
                sock.recv(4096)  # an answer (408, 431) or the end: either way the server ended it
                closed_at[index] = time.perf_counter()
            except TimeoutError:
                pass
            except OSError:
                closed_at[index] = time.perf_counter()
        time.sleep(2.0)
    for sock, _ in sockets:
        sock.close()
    late = [i for i, (_, opened) in enumerate(sockets) if closed_at.get(i, 1e18) - opened > limit]
    reply = Reply(
        None, seconds=limit, outcome=f"{open_count} opened, {len(closed_at)} closed by server"
    )
    problems = [f"{len(late)} of {open_count} still open after {limit:.0f} s"] if late else []
    return [reply], problems


def slow_body(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Rule: the server ends the request (an answer or a close) within BODY_TIMEOUT_S + 5 s."""
    limit = _server_constant("BODY_TIMEOUT_S", 30.0) + 5.0
    body = _dumps(chat(target))
    headers = [("Authorization", f"Bearer {target.key}"), ("Content-Type", "application/json")]
    data = http_request("POST", "/v1/chat/completions", target.port, headers, body)
    head, rest = data[: len(data) - len(body)], body
    started = time.perf_counter()
    sock = connect(target.source, target.port, 5)
    sock.sendall(head)
    ended = None
    received = b""
    for byte in rest:
        if time.perf_counter() - started > limit + 3:
            break
        try:
            sock.settimeout(2.0)
            chunk = sock.recv(4096)
            received += chunk
            ended = time.perf_counter() - started
            break
        except TimeoutError:
            pass
        except OSError:
            ended = time.perf_counter() - started
            break
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            ended = time.perf_counter() - started
            break
    sock.close()
    status = _first_status(received)
    seconds = ended if ended is not None else time.perf_counter() - started
    reply = Reply(status, body=received, seconds=seconds, outcome="ended" if ended else "open")
    if ended is None or ended > limit:
        return [reply], [f"server still reading after {seconds:.0f} s (limit {limit:.0f} s)"]
    return [reply], []


BEHAVIOURS: dict[str, Callable[[dict, Target], tuple[list[Reply], list[str]]]] = {
    "stream_unread": stream_unread,
    "stream_slow_read": stream_slow_read,
    "abandon_streams": abandon_streams,
    "abandon_plain": abandon_plain,
    "many_streams_one_learner": many_streams_one_learner,
    "one_key_many_addresses": one_key_many_addresses,
    "wrong_key_spray": wrong_key_spray,
    "forwarded_header_spoof": forwarded_header_spoof,
    "trickling_headers": trickling_headers,
    "slow_body": slow_body,
}


def run_attack(case: dict, target: Target) -> tuple[list[Reply], list[str]]:
    """Run one case's requests and judge them by the case's rule."""
    expect = case["expect"]
    if "behaviour" in case:
        return BEHAVIOURS[case["behaviour"]](case, target)
    if "builder" in case:
        return BUILDERS[case["builder"]](case, target)
    if "raw" in case:
        return run_raw(case, target)
    specs = case.get("requests") or [case["request"]]
    replies, problems = [], []
    for spec in specs:
        reply = send_spec(spec, case, target)
        replies.append(reply)
        rule = spec.get("expect", expect)
        bound = spec.get("bound", case.get("bound", MAX_COMPLETION_TOKENS))
        problems += [
            f"{spec.get('method', '')} {spec.get('path', '')} {p}".strip() if len(specs) > 1 else p
            for p in judge_reply(rule, reply, bound)
        ]
    return replies, problems


# --------------------------------------------------------------------------------------------
# The server, the canary, the log
# --------------------------------------------------------------------------------------------


class ClassServer:
    """``course serve`` on loopback in a subprocess, its output going to a log file."""

    def __init__(self, key: str, log_path: Path) -> None:
        self.key = key
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.model = ""

    def start(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        course = shutil.which("course", path=str(Path(sys.executable).parent)) or "course"
        command = [course, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--api-key", self.key, "--parallel", "4"]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        import httpx2

        deadline = time.monotonic() + 180
        with httpx2.Client(timeout=5) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"course serve exited with {self.process.returncode}")
                try:
                    models = http.get(
                        f"http://127.0.0.1:{self.port}/v1/models",
                        headers={"Authorization": f"Bearer {self.key}"},
                    )
                    if models.status_code == 200:
                        self.model = models.json()["data"][0]["id"]
                        return
                except httpx2.HTTPError:
                    pass
                time.sleep(0.5)
        raise RuntimeError(f"course serve did not answer on port {self.port} within 180 s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")


class Canary:
    """A normal learner: the openai SDK from its own loopback address, one retry as a 429 needs."""

    def __init__(self, server: ClassServer) -> None:
        import httpx2
        import openai

        # Past CANARY_WITHIN_S the canary has failed whatever comes; waiting longer (the SDK's
        # 10 minutes, three tries) would only make a failing run take an hour.
        transport = httpx2.HTTPTransport(local_address=CANARY_ADDRESS)
        self.http = httpx2.Client(transport=transport, timeout=CANARY_WITHIN_S + 5)
        self.client = openai.OpenAI(
            base_url=f"http://127.0.0.1:{server.port}/v1",
            api_key=server.key,
            http_client=self.http,
            max_retries=1,
        )
        self.model = server.model

    def ask(self) -> tuple[bool, float, str]:
        started = time.perf_counter()
        try:
            answer = self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": CANARY_QUESTION}],
                max_tokens=30,
                temperature=0,
            )
            ok = bool(answer.choices)
            error = "" if ok else "no choices"
        except Exception as exc:  # any failure is the canary's verdict
            ok, error = False, f"{exc.__class__.__name__}"
        return ok, time.perf_counter() - started, error

    def close(self) -> None:
        self.http.close()


def health(port: int) -> tuple[int | None, float]:
    import httpx2

    started = time.perf_counter()
    transport = httpx2.HTTPTransport(local_address=HEALTH_ADDRESS)
    try:
        with httpx2.Client(transport=transport, timeout=HEALTH_WITHIN_S) as http:
            status = http.get(f"http://127.0.0.1:{port}/health").status_code
    except httpx2.HTTPError:
        status = None
    return status, time.perf_counter() - started


def log_leaks(text: str, key: str, marker: str) -> list[str]:
    """What of the key, the case's bodies or the canary's question reached the log."""
    leaks = []
    secret = key.removeprefix("class-")
    if any(secret[i : i + 12] in text for i in range(0, len(secret) - 11)):
        leaks.append("key in the log")
    if marker in text:
        leaks.append("request body in the log")
    if CANARY_QUESTION[:30] in text:
        leaks.append("canary's question in the log")
    return leaks


# --------------------------------------------------------------------------------------------
# One case, the whole run, the report
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    case: dict
    status: str
    seconds: float
    canary_s: float
    canary_ok: bool
    problems: list[str]
    note: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems


def run_case(index: int, case: dict, server: ClassServer, canary: Canary) -> Row:
    marker = f"zqx{index:02d}{secrets.token_hex(5)}"
    target = Target(server.port, server.key, server.model, marker, f"127.0.1.{index + 1}")
    log_offset = server.log_size()
    outcome: dict[str, Any] = {}

    def attack() -> None:
        try:
            outcome["result"] = run_attack(case, target)
        except Exception as exc:  # recorded; the verdict says fail
            outcome["result"] = ([], [f"harness error: {exc.__class__.__name__}: {exc}"])

    started = time.perf_counter()
    thread = threading.Thread(target=attack, daemon=True)
    thread.start()
    time.sleep(case.get("canary_delay_s", 0.3))
    canary_ok, canary_s, canary_error = canary.ask()
    thread.join(ANSWER_WITHIN_S + 20)
    seconds = time.perf_counter() - started
    if "result" in outcome:
        replies, problems = outcome["result"]
    else:
        replies, problems = [Reply(None, outcome="timeout")], ["attack still running after cap"]
    problems = list(problems)
    for reply in replies:
        if server.key.encode() in reply.body:
            problems.append("the key echoed in an answer")
        for text in case.get("forbid", []):
            if text.encode() in reply.body:
                problems.append(f"forbidden text {text!r} in an answer")
    if not canary_ok:
        problems.append(f"canary failed ({canary_error}) after {canary_s:.1f} s")
    elif canary_s > CANARY_WITHIN_S:
        problems.append(f"canary took {canary_s:.1f} s")
    health_status, health_s = health(server.port)
    if health_status != 200 or health_s > HEALTH_WITHIN_S:
        problems.append(f"/health {health_status} after {health_s:.1f} s")
    time.sleep(0.5)
    problems += log_leaks(server.log_since(log_offset), server.key, marker)
    attack_seconds = max((r.seconds for r in replies), default=seconds)
    return Row(case, status_text(replies), attack_seconds, canary_s, canary_ok, problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated case ids; does not write RESULTS.md")
    args = parser.parse_args()
    cases = json.loads(DATA.read_text(encoding="utf-8"))["cases"]
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c["id"] in wanted]
    load_start = load_average()
    run_started = time.perf_counter()
    key = "class-" + secrets.token_hex(16)
    workdir = Path(tempfile.mkdtemp(prefix="class-server-attacks-"))
    server = ClassServer(key, workdir / "server.log")
    server.start()
    canary = Canary(server)
    canary.ask()  # warm-up: the first answer loads the prompt cache; not judged
    rows: list[Row] = []
    restarts = 0
    try:
        for index, case in enumerate(cases):
            row = run_case(index, case, server, canary)
            if any(p.startswith("/health") for p in row.problems):
                restarts += 1
                row.note = "server restarted after this case"
            if not row.passed or row.seconds > QUIET_AFTER_S:
                canary.close()
                server.stop()
                server.start()
                canary = Canary(server)
                canary.ask()  # warm-up, not judged
            rows.append(row)
            verdict = "pass" if row.passed else "FAIL: " + "; ".join(row.problems)
            print(
                f"{case['id']:4} {case['family'][:22]:22} {row.status[:28]:28} "
                f"{row.seconds:6.1f} s  canary {row.canary_s:5.1f} s  {verdict}",
                flush=True,
            )
    finally:
        canary.close()
        server.stop()
    total_s = time.perf_counter() - run_started
    families: dict[str, list[Row]] = {}
    for row in rows:
        families.setdefault(row.case["family"], []).append(row)
    summary = "; ".join(
        f"{name}: {sum(r.passed for r in group)} passed, {sum(not r.passed for r in group)} failed"
        for name, group in families.items()
    )
    passed = sum(r.passed for r in rows)
    print(f"\n{passed} of {len(rows)} cases passed in {total_s / 60:.1f} min. {summary}")
    if args.only:
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    write_results(rows, families, total_s, restarts, load_start)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def write_results(
    rows: list[Row], families: dict[str, list[Row]], total_s: float, restarts: int, load_start: str
) -> None:
    machine = describe_machine()
    table = [
        [
            r.case["id"],
            r.case["family"],
            r.status.replace("|", "/"),
            f"{r.seconds:.1f}",
            f"{r.canary_s:.1f}" + ("" if r.canary_ok else " (failed)"),
            ("pass" if r.passed else "**fail**: " + "; ".join(r.problems).replace("|", "/"))
            + (f" ({r.note})" if r.note else ""),
        ]
        for r in rows
    ]
    family_rows = [
        [name, len(family), sum(r.passed for r in family), sum(not r.passed for r in family)]
        for name, family in families.items()
    ]
    passed = sum(r.passed for r in rows)
    lines = [
        SECTION,
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with "
        f"`nice -n 10 .venv/bin/python benchmarks/class_server_attacks.py` at commit "
        f"{git_commit()}: {machine['CPU']}; load average at start {load_start}, at the end "
        f"{load_average()}. `course serve` on loopback with a key and four slots; {len(rows)} "
        f"cases from `benchmarks/data/class_server_attacks.json`, one at a time, each from its "
        "own loopback address, while a normal learner (the `openai` SDK from 127.0.0.77) asks "
        f"a 30-token question. Whole run {total_s / 60:.1f} min. After a case that failed or ran "
        f"longer than {QUIET_AFTER_S:.0f} s the server was restarted, so that an answer still "
        "being written could not slow the next case; "
        f"{restarts} cases left the server without a health answer.",
        "",
        "The cases are held out: written from the server's stated promises, the OpenAI API "
        "reference, llama.cpp's server README and HTTP/1.1, without reading the server's code "
        "or tests. A case passes when its answer keeps the rule written before the first run "
        f"(the script's docstring: bad input gets a 4xx in the OpenAI error shape within "
        f"{REFUSE_WITHIN_S:.0f} s; an accepted answer has at most its bound of completion tokens, "
        f"never more than {MAX_COMPLETION_TOKENS}, within {ANSWER_WITHIN_S:.0f} s; admin "
        "endpoints never answer), and the canary answered within "
        f"{CANARY_WITHIN_S:.0f} s, `/health` answered afterwards, and no new log line held the "
        "key, a request body or the canary's question.",
        "",
        *markdown_table(["family", "cases", "passed", "failed"], family_rows),
        "",
        f"{passed} of {len(rows)} cases passed.",
        "",
        *markdown_table(["case", "family", "status", "seconds", "canary s", "verdict"], table),
        "",
    ]
    replace_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, lines)
    print(f"Wrote {SECTION[3:]} to benchmarks/RESULTS.md")


if __name__ == "__main__":
    sys.exit(main())
