"""What a learner's request body may ask of the class server, checked before the model sees it.

Why it is needed: llama.cpp accepts far more than the OpenAI API. A body with ``"n_predict":
3000`` next to ``"max_tokens": 20`` gets 3000 tokens (measured: 55 s of the model), ``"n": 3``
three answers for the price of one request, ``"id_slot"`` picks a slot, ``"grammar"`` hands the
sampler any grammar at all. None of that is something a learner's course code sends, and each is
a way for one laptop to take more of the trainer's machine than the queue in
:mod:`enterprise_ai.fair_share` can see.

So the class server accepts what the official API accepts and nothing else:

- **Fields**: exactly the parameters the installed ``openai`` SDK can send (read from its own
  type definitions, so the list follows the SDK when it is upgraded). Anything else is refused
  the way OpenAI refuses it ("Unrecognized request argument supplied"), with the fix.
- **Values** with a cost or a documented range: one answer per request (``n=1``), at most
  :data:`MAX_ANSWER_TOKENS` tokens, at most 4 ``stop`` sequences, at most 128 tools,
  ``top_logprobs`` up to 20, ``temperature`` 0-2, ``top_p`` 0-1, penalties -2 to 2. The ranges are
  OpenAI's documented ones: code that passes here passes against OpenAI too.
- **Shape**: JSON nested at most :data:`MAX_NESTING` levels (a deep tool schema made the
  adapter's schema code fail with a 500 at depth 300).

Nothing here knows about HTTP: :mod:`enterprise_ai.serve` turns :class:`RequestRefused` into an
error in the OpenAI shape.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from openai.types.chat import completion_create_params
from openai.types.responses import response_create_params

from enterprise_ai.local_server import SLOT_CONTEXT_TOKENS

__all__ = [
    "ALLOWED_FIELDS",
    "MAX_ANSWER_TOKENS",
    "MAX_NESTING",
    "RequestRefused",
    "check_request",
    "expected_tokens",
    "nesting_depth",
]

#: Largest answer a request may ask for: a slot's whole context window.
MAX_ANSWER_TOKENS = SLOT_CONTEXT_TOKENS
#: Deepest JSON nesting accepted. A chat body with content parts is about 6 levels deep, a
#: tool's schema nested 10 levels (OpenAI's own limit for structured outputs) about 30.
MAX_NESTING = 64
#: OpenAI's documented limits: "Up to 4 sequences", "A max of 128 functions are supported".
MAX_STOP_SEQUENCES = 4
MAX_TOOLS = 128

_TOKEN_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
#: Numbers with OpenAI's documented ranges (inclusive).
_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
    "top_logprobs": (0, 20),
}


def _sdk_fields(*typed_dicts: Any) -> frozenset[str]:
    """The keys the SDK's request types (TypedDicts) may carry, required or optional."""
    return frozenset().union(*(t.__required_keys__ | t.__optional_keys__ for t in typed_dicts))


#: Path → the body fields the official ``openai`` SDK can send to it.
ALLOWED_FIELDS: dict[str, frozenset[str]] = {
    "/v1/chat/completions": _sdk_fields(
        completion_create_params.CompletionCreateParamsNonStreaming,
        completion_create_params.CompletionCreateParamsStreaming,
    ),
    "/v1/responses": _sdk_fields(
        response_create_params.ResponseCreateParamsNonStreaming,
        response_create_params.ResponseCreateParamsStreaming,
    ),
}


class RequestRefused(Exception):
    """A request body the class server will not send to the model.

    Attributes:
        status: The HTTP status to answer with (400, or 404 for an unknown model).
        code: The OpenAI-style ``error.code``.
        message: What is wrong and the fix, for the learner.
    """

    def __init__(self, message: str, *, code: str = "invalid_value", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def nesting_depth(value: Any) -> int:
    """How deeply ``value`` (parsed JSON) nests lists and objects; a scalar is 0.

    Walks without recursion, so a body nested deeper than Python's recursion limit is measured
    rather than crashing the check meant to refuse it.

    >>> nesting_depth({"a": [1, {"b": 2}]})
    3
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_request(path: str, body: dict[str, Any], models: frozenset[str]) -> None:
    """Refuse a body the class server should not send to the model.

    Args:
        path: ``/v1/chat/completions`` or ``/v1/responses``.
        body: The parsed JSON object.
        models: The model names served (empty: any name is passed on).

    Raises:
        RequestRefused: The first rule the body breaks, with a message that names the fix.
    """
    depth = nesting_depth(body)
    if depth > MAX_NESTING:
        raise RequestRefused(
            f"The request body is nested {depth} levels deep; this class server accepts at most "
            f"{MAX_NESTING}. Flatten the JSON schema or the tool parameters (OpenAI itself allows "
            "10 levels of nesting in a schema).",
            code="nesting_too_deep",
        )
    _check_model(body.get("model"), models)
    allowed = ALLOWED_FIELDS.get(path, frozenset())
    unknown = sorted(name for name in body if name not in allowed)
    if unknown:
        raise RequestRefused(
            f"Unrecognized request argument supplied: {', '.join(unknown)}. This class server "
            "accepts the fields of the OpenAI API only, so one learner cannot use llama.cpp's own "
            "options (more tokens than max_tokens, a chosen slot, a custom grammar) against the "
            "room. Remove it (or the extra_body that sends it); to try llama.cpp's options, run "
            "the model on your own laptop (COURSE_BACKEND=local).",
            code="unknown_parameter",
        )
    for name in _TOKEN_FIELDS:
        _check_answer_tokens(name, body.get(name))
    n = body.get("n", 1)
    if n != 1 or isinstance(n, bool):
        times = f"{n} times" if isinstance(n, int) and n > 1 else "several times"
        raise RequestRefused(
            f"n={n!r}: this class server writes one answer per request, so that the room shares "
            f"the model fairly. Leave n out, and send the request {times} if you need several "
            "answers."
        )
    for name, (low, high) in _RANGES.items():
        _check_range(name, body.get(name), low, high)
    stop = body.get("stop")
    if isinstance(stop, list) and len(stop) > MAX_STOP_SEQUENCES:
        raise RequestRefused(
            f"stop has {len(stop)} sequences; the OpenAI API accepts at most "
            f"{MAX_STOP_SEQUENCES}. Keep the {MAX_STOP_SEQUENCES} that matter most."
        )
    _check_shape(path, body)
    tools = body.get("tools")
    if isinstance(tools, list) and len(tools) > MAX_TOOLS:
        raise RequestRefused(
            f"The request offers {len(tools)} tools; the OpenAI API accepts at most {MAX_TOOLS}. "
            "Offer only the tools this step needs (a small model routes better with few anyway)."
        )


_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_MINIMUMS = ("minItems", "minLength", "minProperties")


def _check_shape(path: str, body: dict[str, Any]) -> None:
    """The parts the model reads must have the API's shape: a malformed one used to reach the
    adapter or llama.cpp and come back as a 500, or as an answer to nothing."""
    if path == "/v1/chat/completions":
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestRefused(
                'messages must be a non-empty list, e.g. [{"role": "user", "content": "Hello"}].',
                code="invalid_messages",
            )
        for number, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in _ROLES:
                raise RequestRefused(
                    f"messages[{number}] needs a role: one of {', '.join(sorted(_ROLES))}.",
                    code="invalid_messages",
                )
            content = message.get("content")
            if content is None and not message.get("tool_calls"):
                raise RequestRefused(
                    f"messages[{number}] has no content; give it text (only an assistant "
                    "message with tool_calls may leave it out).",
                    code="invalid_messages",
                )
            _check_parts(content, f"messages[{number}].content")
    if path == "/v1/responses":
        given = body.get("input")
        if not (isinstance(given, str) and given) and not (isinstance(given, list) and given):
            raise RequestRefused(
                "input must be text or a non-empty list of input items, e.g. input='Hello'.",
                code="invalid_input",
            )
        if isinstance(given, list):
            for number, item in enumerate(given):
                if isinstance(item, dict):
                    _check_parts(item.get("content"), f"input[{number}].content")
    logit_bias = body.get("logit_bias")
    if logit_bias is not None and not isinstance(logit_bias, dict):
        raise RequestRefused(
            'logit_bias must be an object of token id to bias, e.g. {"2": -100}; '
            "llama.cpp's list form is not part of the OpenAI API."
        )
    if isinstance(logit_bias, dict):
        for token, bias in logit_bias.items():
            _check_range(f"logit_bias[{token!r}]", bias, -100, 100)
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise RequestRefused("tools must be a list of tools.", code="invalid_tools")
    for number, tool in enumerate(tools or []):
        function = tool.get("function", tool) if isinstance(tool, dict) else None
        parameters = function.get("parameters", {}) if isinstance(function, dict) else None
        named = isinstance(function, dict) and isinstance(function.get("name"), str)
        if not named or not isinstance(parameters, dict):
            raise RequestRefused(
                f"tools[{number}] must be a function with a name and, if it has parameters, a "
                'JSON schema object, e.g. {"type": "function", "function": {"name": "get_order", '
                '"parameters": {"type": "object", "properties": {}}}}.',
                code="invalid_tools",
            )
    _check_minimums(body)


def _check_parts(content: Any, where: str) -> None:
    """The class server's model reads text only: images, audio and files are refused."""
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise RequestRefused(f"{where} must be text or a list of text parts.")
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in ("text", "input_text", "output_text", "refusal"):
            raise RequestRefused(
                f"{where} has a part of type {kind!r}. The model on this class server reads text "
                "only: send the text itself (images, audio and files need a model that reads "
                "them, e.g. on Azure OpenAI).",
                code="unsupported_content",
            )


def _check_minimums(body: dict[str, Any]) -> None:
    """A schema that asks for more than the model can write can only fail: refuse it first."""
    stack: list[Any] = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in _MINIMUMS:
                value = node.get(key)
                if isinstance(value, int) and value > MAX_ANSWER_TOKENS:
                    raise RequestRefused(
                        f"A JSON schema in the request asks for {key}={value}; the model writes "
                        f"at most {MAX_ANSWER_TOKENS} tokens, so no answer could fit. Ask for "
                        "fewer (a schema for an answer should need a few hundred tokens).",
                        code="unsatisfiable_schema",
                    )
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def expected_tokens(body: dict[str, Any]) -> int:
    """A rough size of the request in tokens: what it may write plus what the model must read.

    The class server's queue answers short questions first
    (:data:`enterprise_ai.fair_share.SHORT_TOKENS`), so it needs a size before the model has
    seen the request. The answer budget is the largest token field the body sets (without one
    the model may fill its context window), so a request cannot pass for short by setting one
    field low and another high; the text is the whole body at about four characters per
    token, a rough but cheap rule for English. The schema and tools count too: they become
    prompt text and grammar.

    >>> expected_tokens({"model": "m", "messages": [{"role": "user", "content": "Hi"}],
    ...                  "max_tokens": 60})
    80
    """
    budgets = [body[name] for name in _TOKEN_FIELDS if isinstance(body.get(name), int)]
    answer = max(budgets) if budgets else MAX_ANSWER_TOKENS  # the larger may be the one used
    return answer + len(json.dumps(body)) // 4


def _check_model(model: Any, models: frozenset[str]) -> None:
    served = ", ".join(sorted(models)) or "the model in GET /v1/models"
    if not isinstance(model, str) or not model:
        raise RequestRefused(
            f"The request names no model. Add model={served!r} (COURSE_MODEL, if set).",
            code="missing_model",
        )
    if models and model not in models:
        raise RequestRefused(
            f"The model {model!r} does not exist on this class server; it serves {served}. "
            "Use that name (unset COURSE_MODEL, or set it to that name).",
            code="model_not_found",
            status=404,
        )


def _check_answer_tokens(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestRefused(
            f"{name} must be a whole number of at least 1, e.g. {name}=200; got {value!r}."
        )
    if value > MAX_ANSWER_TOKENS:
        raise RequestRefused(
            f"{name}={value} is more than the model on this class server can write in one answer "
            f"(at most {MAX_ANSWER_TOKENS} tokens, its context window). Ask for fewer, e.g. "
            f"{name}=200."
        )


def _check_range(name: str, value: Any, low: float, high: float) -> None:
    if value is None:
        return
    whole = isinstance(low, int) and isinstance(high, int)
    kind = int if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        what = "a whole number" if whole else "a number"
        raise RequestRefused(f"{name} must be {what} from {low} to {high}; got {value!r}.")
    if not low <= value <= high:
        raise RequestRefused(
            f"{name}={value} is outside the range the OpenAI API accepts ({low} to {high}). "
            f"Use a value in that range, e.g. {name}={min(max(value, low), high)}."
        )
