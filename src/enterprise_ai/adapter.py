"""Make the local llama.cpp server answer like the OpenAI API where the course needs it.

The course runs learner code unchanged on the offline model and on hosted APIs. llama.cpp
serving SmolLM2 already speaks most of the OpenAI API, but two things the lessons rely on are
missing, and this module closes them inside an ``httpx2`` transport, so the official ``openai``
SDK never notices::

    client = OpenAI(
        base_url=server_base_url + "/v1",
        api_key="local",
        http_client=httpx2.Client(transport=LocalAdapterTransport()),
    )

1. **Tool calls** on ``/v1/chat/completions``. SmolLM2's chat template has no tool support, so
   a request with ``tools`` is sent upstream *without* them and with a ``json_schema``
   ``response_format`` instead: the grammar forces the model to answer either
   ``{"tool": <name>, "arguments": {...}}`` for one of the tools or, when ``tool_choice`` is
   ``"auto"``, ``{"answer": <text>}``. A short system message lists the tools. The JSON is
   turned back into a standard ``chat.completion`` with ``message.tool_calls``. Earlier turns
   the template cannot render (assistant ``tool_calls``, role ``"tool"``) are rewritten as plain
   text. ``stream=True`` runs non-streaming upstream and replays the result as SSE chunks.
   One tool call per turn: ``parallel_tool_calls`` is accepted and ignored.
2. **Structured output and tools on** ``/v1/responses``. llama.cpp ignores ``text.format``, so
   such requests (and any with ``tools`` or function-call items) are translated to chat
   completions, run through (1), and rebuilt as a Responses API object (or its event stream).

3. **Compact JSON.** A ``json_schema`` ``response_format`` from the caller is sent to llama.cpp
   as a grammar that allows no whitespace between JSON tokens. Left free, the tiny model
   pretty-prints with newlines and indentation: 75-80 tokens for a ticket triage instead of
   45-50, often cut off by ``max_tokens`` and then retried. Same schema, same values; only the
   spaces the reader never sees are gone. The tool-choice schema of (1) keeps llama.cpp's
   default grammar: forced into compact JSON, SmolLM2 chose the answer branch over a tool far
   more often, and the agent scenario suite fell from 10 to 7 of 26 tasks (measured
   2026-12-04 with ``benchmarks/agent_scenarios.py``).

Everything else (plain chat, plain responses, models, embeddings, ...) is forwarded untouched
after a substring check on the request body, so the adapter costs next to nothing there.

Errors the adapter produces itself are OpenAI-style JSON bodies with ``x-should-retry: false``
(the model is deterministic, so the SDK's automatic retries would only repeat the failure):

- 400 ``AdapterRequestError`` for requests the local model cannot serve (images, hosted tools,
  ``previous_response_id``), naming the part and what to send instead;
- 500 when the model's constrained JSON is unusable, usually because ``max_tokens`` cut it off.

Introduced in notebooks/00_setup.ipynb (get_client) and used from the tool-calling lessons on.
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx2

__all__ = [
    "AdapterError",
    "AdapterRequestError",
    "AsyncLocalAdapterTransport",
    "LocalAdapterTransport",
    "UpstreamOutputError",
    "chat_completion_to_sse",
    "compact_json_output",
    "plan_chat_request",
    "response_to_sse",
]

JSON = dict[str, Any]

TOOL_KEY = "tool"
#: The name of the schema (1) sends for a tool choice; (3) leaves that one alone.
TOOL_CHOICE = "tool_choice"
ARGUMENTS_KEY = "arguments"
ANSWER_KEY = "answer"

CHAT_PATH_SUFFIX = "/chat/completions"
RESPONSES_PATH_SUFFIX = "/responses"

# A request body without any of these bytes cannot need translation: the fast path.
_CHAT_MARKERS = (b'"tool', b'"function', b'"json_schema"')
_RESPONSES_MARKERS = (b'"tool', b'"format"', b'"function_call')

_TOOL_RESULT_HINT = 'If this result answers the question, reply with {"answer": <text>}.'
_HOP_BY_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "host"}


class AdapterError(Exception):
    """Base class: the adapter could not turn a request or an answer into OpenAI form.

    Attributes:
        status_code: HTTP status of the OpenAI-style error body the transport returns.
        error_type: The ``error.type`` field of that body.
    """

    status_code = 500
    error_type = "server_error"


class AdapterRequestError(AdapterError):
    """The request asks for something the local model cannot do (400, not retried)."""

    status_code = 400
    error_type = "invalid_request_error"


class UpstreamOutputError(AdapterError):
    """The model's constrained JSON was unusable, e.g. cut off by ``max_tokens`` (500)."""


# --------------------------------------------------------------------------------------------
# JSON schema helpers
# --------------------------------------------------------------------------------------------


def _relocate_refs(schema: JSON, *, prefix: str, defs: JSON) -> JSON:
    """Return a copy of ``schema`` whose local ``$ref``s still resolve once it is nested.

    Pydantic puts nested models in ``$defs`` and points at them with ``#/$defs/Name``. Inside
    the combined tool-choice schema those paths would point at the wrong root, so every
    definition moves into the shared ``defs`` under ``prefix + Name`` and refs are rewritten.
    A ``#`` self-reference (recursive models) points at a copy of the schema itself.
    """
    schema = copy.deepcopy(schema)
    own_defs: JSON = {}
    own_defs.update(schema.pop("$defs", {}) or {})
    own_defs.update(schema.pop("definitions", {}) or {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    out[key] = _rewrite_ref(value)
                else:
                    out[key] = rewrite(value)
            return out
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    def _rewrite_ref(ref: str) -> str:
        for old in ("#/$defs/", "#/definitions/"):
            if ref.startswith(old):
                return "#/$defs/" + prefix + ref[len(old) :]
        if ref == "#":
            return "#/$defs/" + prefix + "root"
        return ref

    body = rewrite(schema)
    for name, definition in own_defs.items():
        defs[prefix + name] = rewrite(definition)
    if _mentions_root_ref(schema):
        defs[prefix + "root"] = body
    return body


def _mentions_root_ref(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get("$ref") == "#":
            return True
        return any(_mentions_root_ref(value) for value in node.values())
    if isinstance(node, list):
        return any(_mentions_root_ref(item) for item in node)
    return False


#: The longest free-text tool argument the local model may write (characters). Without a cap
#: a 135M model sometimes keeps writing one query until ``max_tokens`` ends the call in the
#: middle of its JSON, and the whole step is lost; a real search query or order note is short.
ARGUMENT_MAX_CHARS = 80


def _parameters_schema(function: JSON) -> JSON:
    parameters = function.get("parameters")
    if not parameters:
        return {"type": "object", "properties": {}, "additionalProperties": False}
    return _bounded_strings(parameters)


def _bounded_strings(schema: Any) -> Any:
    """A copy of ``schema`` where no free-text string may be longer than ``ARGUMENT_MAX_CHARS``.

    A shorter ``maxLength`` is kept; ``enum``, ``const``, ``pattern`` and ``format`` strings
    stay as they are. The tool definitions the learner wrote are not changed: this
    only shapes the grammar llama.cpp decodes with.

    >>> _bounded_strings({"type": "object", "properties": {"q": {"type": "string"}}})
    {'type': 'object', 'properties': {'q': {'type': 'string', 'maxLength': 80}}}
    """
    if isinstance(schema, list):
        return [_bounded_strings(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    bounded = {key: _bounded_strings(value) for key, value in schema.items()}
    free_text = schema.get("type") == "string" and not any(
        key in schema for key in ("enum", "const", "pattern", "format")
    )
    if free_text:
        bounded["maxLength"] = min(schema.get("maxLength", ARGUMENT_MAX_CHARS), ARGUMENT_MAX_CHARS)
    return bounded


def _answer_schema(response_format: JSON | None) -> tuple[JSON, bool]:
    """Schema of the ``answer`` value, and whether that answer is JSON rather than text."""
    if not response_format or response_format.get("type") == "text":
        return {"type": "string"}, False
    if response_format.get("type") == "json_object":
        return {"type": "object"}, True
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {"type": "object"}
        return schema, True
    raise AdapterRequestError(
        f"response_format type {response_format.get('type')!r} is not supported by the local "
        "adapter. Use 'text', 'json_object' or 'json_schema'."
    )


def _text(content: Any) -> str:
    """Flatten message content (a string or a list of text parts) into one string."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                pieces.append(part["text"])
            elif isinstance(part, dict) and isinstance(part.get("refusal"), str):
                pieces.append(part["refusal"])
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise AdapterRequestError(
                    f"Message content part of type {kind!r} cannot be sent to the local model, "
                    "which reads text only. Send the content as text."
                )
        return "\n".join(pieces)
    return str(content)


# --------------------------------------------------------------------------------------------
# (a) Chat completions with tools
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatPlan:
    """What to send upstream for one chat request, and how to read the answer.

    Attributes:
        upstream_body: The chat-completions body llama.cpp receives.
        tool_names: Tools the answer may call; empty when the answer needs no decoding.
        answer_is_json: The ``answer`` branch holds JSON (a response_format was given).
        stream: The caller asked for SSE; the adapter replays the decoded answer as chunks.
        include_usage: Add the final usage chunk to that stream.
        model: The model name to echo in the answer.
    """

    upstream_body: JSON
    tool_names: tuple[str, ...] = ()
    answer_is_json: bool = False
    stream: bool = False
    include_usage: bool = False
    model: str = ""

    @property
    def decodes_answer(self) -> bool:
        """True when the upstream answer is tool-choice JSON that must be translated back."""
        return bool(self.tool_names)


def _has_tool_history(messages: Iterable[JSON]) -> bool:
    return any(
        message.get("role") in ("tool", "function")
        or message.get("tool_calls")
        or message.get("function_call")
        for message in messages
    )


def rewrite_tool_history(messages: list[JSON], *, hint_after_last_result: bool) -> list[JSON]:
    """Rewrite turns SmolLM2's template cannot render into plain assistant/user text.

    An assistant turn with ``tool_calls`` becomes the same JSON the model is asked to produce,
    ``{"tool": ..., "arguments": ...}``, so the model sees its own format in the history. A
    ``tool`` message becomes a user turn "Result of <name>: <content>". The template also
    breaks on ``content: None``, so every content becomes a string.

    Args:
        messages: Chat messages as the SDK sent them.
        hint_after_last_result: When the conversation ends with a tool result, add a line
            nudging the model to answer: without it a 135M model tends to call tools forever.

    Returns:
        New message dicts; the input is not modified.
    """
    names_by_call_id: dict[str, str] = {}
    rewritten: list[JSON] = []
    for message in messages:
        role = message.get("role")
        if role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
            calls = list(message.get("tool_calls") or [])
            if message.get("function_call"):
                calls.append({"id": "", "function": message["function_call"]})
            lines = [_text(message.get("content"))] if message.get("content") else []
            for call in calls:
                function = call.get("function") or {}
                name = function.get("name", "")
                names_by_call_id[call.get("id", "")] = name
                try:
                    arguments = json.loads(function.get("arguments") or "{}")
                except json.JSONDecodeError:
                    arguments = function.get("arguments")
                lines.append(json.dumps({TOOL_KEY: name, ARGUMENTS_KEY: arguments}))
            rewritten.append({"role": "assistant", "content": "\n".join(lines)})
        elif role in ("tool", "function"):
            name = message.get("name") or names_by_call_id.get(message.get("tool_call_id", ""))
            label = f"Result of {name}" if name else "Tool result"
            rewritten.append({"role": "user", "content": f"{label}: {_text(message['content'])}"})
        elif role == "developer":
            rewritten.append({**message, "role": "system", "content": _text(message["content"])})
        else:
            rewritten.append({**message, "content": _text(message.get("content"))})
    ends_with_result = messages and messages[-1].get("role") in ("tool", "function")
    if hint_after_last_result and ends_with_result:
        last = rewritten[-1]
        rewritten[-1] = {**last, "content": f"{last['content']}\n{_TOOL_RESULT_HINT}"}
    return rewritten


def _tool_system_text(functions: list[JSON], *, allow_answer: bool, forced: str | None) -> str:
    lines = ["You can use these tools:"]
    for function in functions:
        description = (function.get("description") or "").strip()
        parameters = json.dumps(_parameters_schema(function).get("properties", {}))
        lines.append(f"- {function['name']}: {description} Arguments: {parameters}")
    if forced:
        lines.append(
            f'Call the tool {forced}: reply with JSON {{"tool": "{forced}", "arguments": {{...}}}}.'
        )
    else:
        lines.append('To use a tool, reply with JSON {"tool": <name>, "arguments": {...}}.')
    if allow_answer:
        lines.append('To reply to the user directly, reply with JSON {"answer": <text>}.')
    return "\n".join(lines)


def _with_system_text(messages: list[JSON], text: str) -> list[JSON]:
    """Append ``text`` to the first system message, or start the conversation with it."""
    if messages and messages[0].get("role") == "system":
        first = messages[0]
        return [{**first, "content": f"{first['content']}\n\n{text}"}, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]


def _forced_tool_name(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, dict):
        function = tool_choice.get("function") or {}
        return function.get("name") or tool_choice.get("name")
    return None


def tool_choice_schema(
    functions: list[JSON], *, allow_answer: bool, response_format: JSON | None = None
) -> tuple[JSON, bool]:
    """Build the JSON schema that makes the model pick one tool (or, if allowed, answer).

    Args:
        functions: The ``function`` objects of the offered tools (name, parameters, ...).
        allow_answer: Add the ``{"answer": ...}`` branch (``tool_choice="auto"``).
        response_format: The request's response_format; shapes the ``answer`` branch.

    Returns:
        The schema, and whether the ``answer`` value is JSON (True) or plain text.

    >>> schema, _ = tool_choice_schema([{"name": "f"}], allow_answer=False)
    >>> schema["anyOf"][0]["properties"]["tool"]
    {'const': 'f'}
    """
    defs: JSON = {}
    branches = []
    for index, function in enumerate(functions):
        parameters = _relocate_refs(_parameters_schema(function), prefix=f"tool{index}_", defs=defs)
        branches.append(
            {
                "type": "object",
                "properties": {TOOL_KEY: {"const": function["name"]}, ARGUMENTS_KEY: parameters},
                "required": [TOOL_KEY, ARGUMENTS_KEY],
                "additionalProperties": False,
            }
        )
    answer_is_json = False
    if allow_answer:
        answer, answer_is_json = _answer_schema(response_format)
        answer = _relocate_refs(answer, prefix="answer_", defs=defs)
        branches.append(
            {
                "type": "object",
                "properties": {ANSWER_KEY: answer},
                "required": [ANSWER_KEY],
                "additionalProperties": False,
            }
        )
    schema: JSON = {"anyOf": branches}
    if defs:
        schema["$defs"] = defs
    return schema, answer_is_json


def plan_chat_request(body: JSON) -> ChatPlan | None:
    """Decide how one ``/v1/chat/completions`` body must change for llama.cpp.

    Args:
        body: The parsed request body.

    Returns:
        None when the body can go upstream untouched; otherwise the plan. A plan whose
        ``decodes_answer`` is False only rewrote the request (tool history, or tools with
        ``tool_choice="none"``), so its answer, streamed or not, passes through as it is.

    Raises:
        AdapterRequestError: ``tool_choice`` names a tool that is not offered, or a tool is
            not a function tool.
    """
    messages = body.get("messages") or []
    tools = body.get("tools") or []
    functions_legacy = body.get("functions") or []
    tool_choice = body.get("tool_choice", body.get("function_call", "auto"))
    if not tools and not functions_legacy and not _has_tool_history(messages):
        return None

    functions = [_function_of(tool) for tool in tools] + list(functions_legacy)
    wants_tools = bool(functions) and tool_choice != "none"
    upstream = {
        key: value
        for key, value in body.items()
        if key not in ("tools", "tool_choice", "parallel_tool_calls", "functions", "function_call")
    }
    allow_answer = tool_choice in ("auto", None) or not wants_tools
    upstream["messages"] = rewrite_tool_history(messages, hint_after_last_result=allow_answer)
    if not wants_tools:
        return ChatPlan(upstream_body=upstream, model=body.get("model", ""))

    forced = _forced_tool_name(tool_choice)
    if forced is not None:
        offered = [function["name"] for function in functions]
        if forced not in offered:
            raise AdapterRequestError(
                f"tool_choice names the tool {forced!r}, but the request offers only {offered}. "
                "Add that tool to `tools` or fix the name."
            )
        functions = [function for function in functions if function["name"] == forced]
        allow_answer = False
    elif tool_choice == "required":
        allow_answer = False
    elif tool_choice not in ("auto", None):
        raise AdapterRequestError(
            f"tool_choice {tool_choice!r} is not supported by the local adapter. Use 'auto', "
            "'required', 'none' or {'type': 'function', 'function': {'name': ...}}."
        )

    schema, answer_is_json = tool_choice_schema(
        functions, allow_answer=allow_answer, response_format=body.get("response_format")
    )
    upstream["messages"] = _with_system_text(
        upstream["messages"],
        _tool_system_text(functions, allow_answer=allow_answer, forced=forced),
    )
    upstream["response_format"] = {
        "type": "json_schema",
        "json_schema": {"name": TOOL_CHOICE, "schema": schema, "strict": True},
    }
    upstream["stream"] = False
    upstream.pop("stream_options", None)
    stream_options = body.get("stream_options") or {}
    return ChatPlan(
        upstream_body=upstream,
        tool_names=tuple(function["name"] for function in functions),
        answer_is_json=answer_is_json,
        stream=bool(body.get("stream")),
        include_usage=bool(stream_options.get("include_usage")),
        model=body.get("model", ""),
    )


def _function_of(tool: JSON) -> JSON:
    if tool.get("type", "function") != "function" or "function" not in tool:
        raise AdapterRequestError(
            f"Tool of type {tool.get('type')!r} cannot run on the local model; only function "
            "tools ({'type': 'function', 'function': {...}}) are supported."
        )
    return tool["function"]


def _new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def _partial_answer(raw: str) -> str | None:
    """Recover the text of a ``{"answer": "...`` object that ``max_tokens`` cut off."""
    match = re.match(r'\s*\{\s*"' + ANSWER_KEY + r'"\s*:\s*"', raw)
    if not match:
        return None
    rest = raw[match.end() :]
    for cut in range(0, min(len(rest), 8) + 1):
        candidate = rest[: len(rest) - cut]
        try:
            return json.loads('"' + candidate + '"')
        except json.JSONDecodeError:
            continue
    return None


def decode_chat_answer(plan: ChatPlan, upstream: JSON) -> JSON:
    """Turn llama.cpp's tool-choice JSON answer into a standard ``chat.completion``.

    Args:
        plan: The plan the request was sent with (``plan.decodes_answer`` must be True).
        upstream: llama.cpp's parsed ``chat.completion``.

    Returns:
        A ``chat.completion`` dict with either ``message.tool_calls`` (finish_reason
        ``"tool_calls"``) or a text ``message.content``; usage is kept from upstream.

    Raises:
        UpstreamOutputError: The JSON is incomplete or matches no branch.
    """
    choice = (upstream.get("choices") or [{}])[0]
    raw = (choice.get("message") or {}).get("content") or ""
    finish_reason = choice.get("finish_reason") or "stop"
    message: JSON = {"role": "assistant", "content": None, "refusal": None}
    try:
        decoded = json.loads(raw)
    except json.JSONDecodeError:
        partial = _partial_answer(raw) if not plan.answer_is_json else None
        if partial is None or finish_reason != "length":
            raise UpstreamOutputError(_cut_off_message(raw, finish_reason, plan)) from None
        message["content"] = partial
    else:
        if isinstance(decoded, dict) and decoded.get(TOOL_KEY) in plan.tool_names:
            arguments = json.dumps(decoded.get(ARGUMENTS_KEY, {}))
            message["tool_calls"] = [
                {
                    "id": _new_id("call_"),
                    "type": "function",
                    "function": {"name": decoded[TOOL_KEY], "arguments": arguments},
                }
            ]
            finish_reason = "tool_calls"
        elif isinstance(decoded, dict) and ANSWER_KEY in decoded:
            answer = decoded[ANSWER_KEY]
            message["content"] = json.dumps(answer) if plan.answer_is_json else str(answer)
        else:
            raise UpstreamOutputError(_cut_off_message(raw, finish_reason, plan))
    return {
        "id": upstream.get("id") or _new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": upstream.get("created") or int(time.time()),
        "model": plan.model or upstream.get("model", ""),
        "system_fingerprint": upstream.get("system_fingerprint"),
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": upstream.get("usage"),
    }


def _cut_off_message(raw: str, finish_reason: str, plan: ChatPlan) -> str:
    shown = raw if len(raw) <= 120 else raw[:120] + "…"
    max_tokens = plan.upstream_body.get("max_tokens") or plan.upstream_body.get(
        "max_completion_tokens"
    )
    if finish_reason == "length":
        return (
            f"The local model stopped after max_tokens={max_tokens} in the middle of its "
            f"tool-choice JSON, so neither a tool call nor a reply can be read from {shown!r}. "
            "Raise max_tokens (or max_output_tokens) and try again."
        )
    return (
        f"The local model's tool-choice answer is not usable JSON (finish_reason="
        f"{finish_reason!r}): {shown!r}. Try again with a clearer prompt or fewer tools."
    )


def chat_completion_to_sse(completion: JSON, *, include_usage: bool) -> bytes:
    """Replay a finished ``chat.completion`` as the SSE chunk stream the SDK expects.

    Args:
        completion: A ``chat.completion`` dict (text or one tool call).
        include_usage: Add the final chunk with ``choices: []`` and ``usage``
            (``stream_options={"include_usage": True}``).

    Returns:
        The complete ``text/event-stream`` body, ending with ``data: [DONE]``.
    """
    base = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
        "system_fingerprint": completion.get("system_fingerprint"),
    }
    choice = completion["choices"][0]
    message = choice["message"]
    deltas: list[JSON] = []
    if message.get("tool_calls"):
        for index, call in enumerate(message["tool_calls"]):
            opening = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            first: JSON = {"tool_calls": [opening]}
            if index == 0:
                first = {"role": "assistant", "content": None, **first}
            deltas.append(first)
            arguments = {"index": index, "function": {"arguments": call["function"]["arguments"]}}
            deltas.append({"tool_calls": [arguments]})
    else:
        deltas.append({"role": "assistant", "content": ""})
        deltas.append({"content": message.get("content") or ""})

    chunks = [
        {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        for delta in deltas
    ]
    finish = {"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}
    chunks.append({**base, "choices": [finish]})
    if include_usage:
        chunks.append({**base, "choices": [], "usage": completion.get("usage")})
    lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


# --------------------------------------------------------------------------------------------
# (b) Responses API on top of chat completions
# --------------------------------------------------------------------------------------------


def _responses_needs_translation(body: JSON) -> bool:
    text_format = ((body.get("text") or {}).get("format") or {}).get("type")
    items = body.get("input") if isinstance(body.get("input"), list) else []
    has_calls = any(
        isinstance(item, dict) and item.get("type") in ("function_call", "function_call_output")
        for item in items
    )
    return bool(body.get("tools")) or text_format in ("json_schema", "json_object") or has_calls


def responses_to_chat(body: JSON) -> JSON:
    """Translate a ``/v1/responses`` request body into a ``/v1/chat/completions`` body.

    ``instructions`` become the system message; ``input`` (a string, or a list of message,
    ``function_call`` and ``function_call_output`` items) becomes messages; ``text.format``
    becomes ``response_format``; function tools and ``tool_choice`` change shape.

    Raises:
        AdapterRequestError: The request needs stored state or inputs the local model lacks.
    """
    for unsupported in ("previous_response_id", "conversation"):
        if body.get(unsupported):
            raise AdapterRequestError(
                f"{unsupported} needs conversations stored on the server, which the local model "
                "does not keep. Send the whole conversation as `input` items instead."
            )
    messages: list[JSON] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": _text(body["instructions"])})
    items = body.get("input")
    if isinstance(items, str):
        messages.append({"role": "user", "content": items})
    else:
        messages.extend(_input_items_to_messages(items or []))

    chat: JSON = {"model": body.get("model", ""), "messages": messages}
    for source, target in (
        ("max_output_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("seed", "seed"),
        ("stop", "stop"),
        ("parallel_tool_calls", "parallel_tool_calls"),
    ):
        if body.get(source) is not None:
            chat[target] = body[source]

    text_format = (body.get("text") or {}).get("format") or {}
    if text_format.get("type") == "json_schema":
        chat["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": text_format.get("name", "response"),
                "schema": text_format.get("schema") or {"type": "object"},
                "strict": bool(text_format.get("strict", True)),
            },
        }
    elif text_format.get("type") == "json_object":
        chat["response_format"] = {"type": "json_object"}

    if body.get("tools"):
        chat["tools"] = [_responses_tool_to_chat(tool) for tool in body["tools"]]
        tool_choice = body.get("tool_choice", "auto")
        if isinstance(tool_choice, dict):
            if tool_choice.get("type") != "function":
                raise AdapterRequestError(
                    f"tool_choice {tool_choice!r} is not supported by the local adapter. Use "
                    "'auto', 'required', 'none' or {'type': 'function', 'name': ...}."
                )
            tool_choice = {"type": "function", "function": {"name": tool_choice.get("name")}}
        chat["tool_choice"] = tool_choice
    return chat


def _responses_tool_to_chat(tool: JSON) -> JSON:
    if tool.get("type") != "function":
        raise AdapterRequestError(
            f"Tool of type {tool.get('type')!r} is a hosted OpenAI tool and cannot run on the "
            "local model. Offer a function tool instead ({'type': 'function', 'name': ...})."
        )
    function = {"name": tool["name"], "parameters": _parameters_schema(tool)}
    if tool.get("description"):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _input_items_to_messages(items: list[Any]) -> list[JSON]:
    messages: list[JSON] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "message":
            role = "system" if item.get("role") == "developer" else item.get("role", "user")
            messages.append({"role": role, "content": _text(item.get("content"))})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id") or item.get("id") or _new_id("call_"),
                "type": "function",
                "function": {"name": item["name"], "arguments": item.get("arguments") or "{}"},
            }
            previous = messages[-1] if messages else None
            if previous and previous["role"] == "assistant" and previous.get("tool_calls"):
                previous["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item.get("call_id", ""),
                    "content": output if isinstance(output, str) else _text(output),
                }
            )
        elif kind == "reasoning":
            continue
        else:
            raise AdapterRequestError(
                f"Input item of type {kind!r} cannot be sent to the local model. Use message, "
                "function_call and function_call_output items."
            )
    return messages


def chat_to_response(completion: JSON, request: JSON) -> JSON:
    """Build a Responses API object from a ``chat.completion`` answering ``request``.

    Args:
        completion: The (decoded) chat completion.
        request: The original ``/v1/responses`` body, echoed where the API echoes it.

    Returns:
        A ``response`` dict: status ``completed`` (or ``incomplete`` when max tokens cut the
        text), one ``message`` or ``function_call`` output item, and Responses-style usage.
    """
    choice = completion["choices"][0]
    message = choice["message"]
    incomplete = choice.get("finish_reason") == "length"
    output: list[JSON] = []
    for call in message.get("tool_calls") or []:
        output.append(
            {
                "type": "function_call",
                "id": _new_id("fc_"),
                "call_id": call["id"],
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
                "status": "completed",
            }
        )
    if not output:
        output.append(
            {
                "type": "message",
                "id": _new_id("msg_"),
                "status": "incomplete" if incomplete else "completed",
                "role": "assistant",
                "content": [
                    {
                        "type": "output_text",
                        "text": message.get("content") or "",
                        "annotations": [],
                        "logprobs": [],
                    }
                ],
            }
        )
    usage = completion.get("usage") or {}
    input_tokens = usage.get("prompt_tokens", 0)
    output_tokens = usage.get("completion_tokens", 0)
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    return {
        "id": _new_id("resp_"),
        "object": "response",
        "created_at": completion.get("created") or int(time.time()),
        "status": "incomplete" if incomplete else "completed",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "metadata": request.get("metadata") or {},
        "model": request.get("model") or completion.get("model", ""),
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": request.get("temperature"),
        "text": request.get("text") or {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p"),
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": usage.get("total_tokens", input_tokens + output_tokens),
        },
        "user": request.get("user"),
    }


def response_events(response: JSON) -> list[JSON]:
    """The standard Responses streaming events for an already finished ``response``.

    The sequence is response.created, response.in_progress, then per output item
    output_item.added, (content_part.added, output_text.delta, output_text.done,
    content_part.done | function_call_arguments.delta/.done), output_item.done, and finally
    response.completed (or response.incomplete).
    """
    in_progress = {**response, "status": "in_progress", "output": [], "usage": None}
    events: list[JSON] = [
        {"type": "response.created", "response": in_progress},
        {"type": "response.in_progress", "response": in_progress},
    ]
    for output_index, item in enumerate(response["output"]):
        position = {"item_id": item["id"], "output_index": output_index}
        if item["type"] == "message":
            events.append(
                {
                    "type": "response.output_item.added",
                    "output_index": output_index,
                    "item": {**item, "status": "in_progress", "content": []},
                }
            )
            for content_index, part in enumerate(item["content"]):
                where = {**position, "content_index": content_index}
                empty_part = {**part, "text": ""}
                events += [
                    {"type": "response.content_part.added", **where, "part": empty_part},
                    {
                        "type": "response.output_text.delta",
                        **where,
                        "delta": part["text"],
                        "logprobs": [],
                    },
                    {
                        "type": "response.output_text.done",
                        **where,
                        "text": part["text"],
                        "logprobs": [],
                    },
                    {"type": "response.content_part.done", **where, "part": part},
                ]
        else:
            events += [
                {
                    "type": "response.output_item.added",
                    "output_index": output_index,
                    "item": {**item, "status": "in_progress", "arguments": ""},
                },
                {
                    "type": "response.function_call_arguments.delta",
                    **position,
                    "delta": item["arguments"],
                },
                {
                    "type": "response.function_call_arguments.done",
                    **position,
                    "name": item["name"],
                    "arguments": item["arguments"],
                },
            ]
        events.append(
            {"type": "response.output_item.done", "output_index": output_index, "item": item}
        )
    final = "response.completed" if response["status"] == "completed" else "response.incomplete"
    events.append({"type": final, "response": response})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def response_to_sse(response: JSON) -> bytes:
    """Encode :func:`response_events` as a ``text/event-stream`` body."""
    return "".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
        for event in response_events(response)
    ).encode()


# --------------------------------------------------------------------------------------------
# One translated exchange, independent of sync/async I/O
# --------------------------------------------------------------------------------------------


@dataclass
class Exchange:
    """A request the adapter rewrites, and how to turn the upstream answer back.

    Built by :func:`prepare_exchange`; the transports only do the I/O in between.

    Attributes:
        upstream_path: Path to call upstream (responses requests go to chat completions).
        upstream_body: JSON body to send there.
        chat_plan: The chat plan (tool decoding, streaming replay).
        responses_request: The original ``/v1/responses`` body, if that is what came in.
    """

    upstream_path: str
    upstream_body: JSON
    chat_plan: ChatPlan | None = None
    responses_request: JSON | None = None

    @property
    def passes_answer_through(self) -> bool:
        """The upstream answer (even a stream) goes back untouched: only the request changed."""
        return self.responses_request is None and not (
            self.chat_plan is not None and self.chat_plan.decodes_answer
        )

    def finish(self, status_code: int, content: bytes) -> tuple[int, str, bytes]:
        """Turn the upstream status and body into (status, content type, body) for the SDK."""
        if status_code != 200:
            return status_code, "application/json", content
        try:
            upstream = json.loads(content)
        except json.JSONDecodeError:
            preview = content[:200].decode(errors="replace")
            return _error(UpstreamOutputError(f"llama.cpp answered with non-JSON: {preview!r}."))
        try:
            completion = upstream
            if self.chat_plan is not None and self.chat_plan.decodes_answer:
                completion = decode_chat_answer(self.chat_plan, upstream)
            if self.responses_request is None:
                plan = self.chat_plan
                if plan is not None and plan.stream:
                    sse = chat_completion_to_sse(completion, include_usage=plan.include_usage)
                    return 200, "text/event-stream", sse
                return 200, "application/json", json.dumps(completion).encode()
            _check_structured_text(completion, self.responses_request)
            response = chat_to_response(completion, self.responses_request)
            if self.responses_request.get("stream"):
                return 200, "text/event-stream", response_to_sse(response)
            return 200, "application/json", json.dumps(response).encode()
        except AdapterError as error:
            return _error(error)


def _check_structured_text(completion: JSON, request: JSON) -> None:
    """Refuse to hand ``responses.parse`` text that is not the JSON it asked for."""
    text_format = ((request.get("text") or {}).get("format") or {}).get("type")
    message = completion["choices"][0]["message"]
    if text_format not in ("json_schema", "json_object") or message.get("tool_calls"):
        return
    text = message.get("content") or ""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        shown = text if len(text) <= 120 else text[:120] + "…"
        raise UpstreamOutputError(
            f"The local model's structured answer is not complete JSON (finish_reason="
            f"{completion['choices'][0].get('finish_reason')!r}, max_output_tokens="
            f"{request.get('max_output_tokens')}): {shown!r}. Raise max_output_tokens and "
            "try again."
        ) from None


def _error(error: AdapterError) -> tuple[int, str, bytes]:
    body = {
        "error": {
            "message": str(error),
            "type": error.error_type,
            "param": None,
            "code": "local_adapter_error",
        }
    }
    return error.status_code, "application/json", json.dumps(body).encode()


@lru_cache(maxsize=64)
def _compact_grammar(schema_json: str) -> str:
    """llama.cpp's grammar for a JSON schema, with no whitespace allowed between tokens.

    ``x-guidance`` is read by llguidance, the grammar engine llama.cpp uses for JSON schemas;
    ``whitespace_flexible: false`` makes ``{"a":1,"b":2}`` the only way to write an object.
    Cached: an evaluation sends the same schema hundreds of times.
    """
    import xllamacpp  # already loaded by the local server this adapter talks to

    schema = {**json.loads(schema_json), "x-guidance": {"whitespace_flexible": False}}
    return xllamacpp.json_schema_to_grammar(json.dumps(schema))


def compact_json_output(body: JSON) -> JSON:
    """Replace a ``json_schema`` ``response_format`` with the compact grammar (see (3) above).

    Any other body comes back unchanged. The schema itself is kept intact, so the answer
    validates exactly as before.
    """
    response_format = body.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return body
    schema = (response_format.get("json_schema") or {}).get("schema")
    if not isinstance(schema, dict) or response_format["json_schema"].get("name") == TOOL_CHOICE:
        return body
    upstream = {key: value for key, value in body.items() if key != "response_format"}
    upstream["grammar"] = _compact_grammar(json.dumps(schema, sort_keys=True))
    return upstream


def prepare_exchange(path: str, content: bytes) -> Exchange | None:
    """Decide from path and raw body whether a request needs the adapter at all.

    This is the fast path: a body that lacks every marker byte string (``"tool``,
    ``"format"``, ...) is not even parsed.

    Args:
        path: The URL path, e.g. ``/v1/chat/completions``.
        content: The raw request body.

    Returns:
        None to forward the request untouched, else the :class:`Exchange` to run.

    Raises:
        AdapterRequestError: The request asks for something the local model cannot do.
    """
    if path.endswith(CHAT_PATH_SUFFIX):
        markers = _CHAT_MARKERS
    elif path.endswith(RESPONSES_PATH_SUFFIX):
        markers = _RESPONSES_MARKERS
    else:
        return None
    if not any(marker in content for marker in markers):
        return None
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # let llama.cpp report the malformed body itself
    if not isinstance(body, dict):
        return None

    if path.endswith(CHAT_PATH_SUFFIX):
        plan = plan_chat_request(body)
        upstream = compact_json_output(plan.upstream_body if plan is not None else body)
        if plan is None and upstream is body:
            return None
        return Exchange(upstream_path=path, upstream_body=upstream, chat_plan=plan)

    if not _responses_needs_translation(body):
        return None
    chat_body = responses_to_chat(body)
    plan = plan_chat_request(chat_body)
    upstream_body = plan.upstream_body if plan is not None else chat_body
    upstream_body = compact_json_output({**upstream_body, "stream": False})
    upstream_path = path[: -len(RESPONSES_PATH_SUFFIX)] + CHAT_PATH_SUFFIX
    return Exchange(
        upstream_path=upstream_path,
        upstream_body=upstream_body,
        chat_plan=plan,
        responses_request=body,
    )


def _upstream_request(request: httpx2.Request, exchange: Exchange) -> httpx2.Request:
    headers = [
        (name, value)
        for name, value in request.headers.multi_items()
        if name.lower() not in _HOP_BY_HOP_HEADERS
    ]
    return httpx2.Request(
        "POST",
        request.url.copy_with(path=exchange.upstream_path),
        headers=headers,
        content=json.dumps(exchange.upstream_body).encode(),
        extensions=request.extensions,
    )


def _adapted_response(request: httpx2.Request, result: tuple[int, str, bytes]) -> httpx2.Response:
    status_code, content_type, content = result
    headers = {"content-type": content_type}
    if status_code >= 400:
        headers["x-should-retry"] = "false"
    return httpx2.Response(status_code, headers=headers, content=content, request=request)


class LocalAdapterTransport(httpx2.BaseTransport):
    """An ``httpx2`` transport that makes llama.cpp answer tool calls and Responses formats.

    Args:
        upstream: The transport that really talks to llama.cpp (default:
            ``httpx2.HTTPTransport()``). Closed with this transport.

    >>> import httpx2
    >>> client = httpx2.Client(transport=LocalAdapterTransport())
    >>> client.close()
    """

    def __init__(self, upstream: httpx2.BaseTransport | None = None) -> None:
        self.upstream = upstream if upstream is not None else httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Forward ``request`` untouched, or translate it both ways (see module docstring)."""
        if request.method != "POST":
            return self.upstream.handle_request(request)
        try:
            exchange = prepare_exchange(request.url.path, request.read())
        except AdapterError as error:
            return _adapted_response(request, _error(error))
        if exchange is None:
            return self.upstream.handle_request(request)
        upstream_response = self.upstream.handle_request(_upstream_request(request, exchange))
        if exchange.passes_answer_through:
            return upstream_response
        try:
            content = upstream_response.read()
        finally:
            upstream_response.close()
        return _adapted_response(request, exchange.finish(upstream_response.status_code, content))

    def close(self) -> None:
        """Close the upstream transport and its connections."""
        self.upstream.close()


class AsyncLocalAdapterTransport(httpx2.AsyncBaseTransport):
    """The asyncio twin of :class:`LocalAdapterTransport`, for ``AsyncOpenAI``.

    Args:
        upstream: The transport that really talks to llama.cpp (default:
            ``httpx2.AsyncHTTPTransport()``). Closed with this transport.
    """

    def __init__(self, upstream: httpx2.AsyncBaseTransport | None = None) -> None:
        self.upstream = upstream if upstream is not None else httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Forward ``request`` untouched, or translate it both ways (see module docstring)."""
        if request.method != "POST":
            return await self.upstream.handle_async_request(request)
        try:
            exchange = prepare_exchange(request.url.path, await request.aread())
        except AdapterError as error:
            return _adapted_response(request, _error(error))
        if exchange is None:
            return await self.upstream.handle_async_request(request)
        upstream_request = _upstream_request(request, exchange)
        upstream_response = await self.upstream.handle_async_request(upstream_request)
        if exchange.passes_answer_through:
            return upstream_response
        try:
            content = await upstream_response.aread()
        finally:
            await upstream_response.aclose()
        return _adapted_response(request, exchange.finish(upstream_response.status_code, content))

    async def aclose(self) -> None:
        """Close the upstream transport and its connections."""
        await self.upstream.aclose()
