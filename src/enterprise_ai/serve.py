"""``course serve``: one OpenAI-compatible endpoint on the trainer's machine for the whole class.

Laptops that cannot run the model, or a class that should all see the same answers, point the
course at the trainer instead (``COURSE_BACKEND=compatible`` with ``OPENAI_BASE_URL``). The
trainer's machine starts llama.cpp with several request slots and puts a small threaded HTTP
proxy in front of it. The proxy does three things:

- it applies the same translation as :mod:`enterprise_ai.adapter`, so learners get tool calls
  and ``responses.parse`` exactly as with the offline backend;
- it streams answers (SSE) through chunk by chunk;
- it checks ``Authorization: Bearer <api_key>`` when a key is set, and refuses to listen
  beyond this machine (any non-loopback host) without one: a model server open to a whole
  network is someone else's free compute.

Only the standard library's ``http.server`` is used, so the trainer installs nothing extra.

Introduced in book/setup.md ("A class server").
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import json
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2

from enterprise_ai.adapter import LocalAdapterTransport
from enterprise_ai.config import mask_secret
from enterprise_ai.errors import CourseError, PortInUseError

__all__ = ["ApiKeyRequiredError", "ClassroomServer", "is_loopback_host", "serve", "start_server"]

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "host",
    "authorization",
    "proxy-authorization",
    "upgrade",
    "te",
    "trailer",
}
_UNAUTHENTICATED_PATHS = {"/health"}  # lets a trainer check the server from a browser
_UPSTREAM_TIMEOUT = httpx2.Timeout(600.0, connect=5.0)  # a busy class queues for minutes


class ApiKeyRequiredError(CourseError, ValueError):
    """``course serve`` was asked to listen beyond this machine without an API key."""


def is_loopback_host(host: str) -> bool:
    """True when ``host`` can only be reached from this machine (127.0.0.0/8, ::1, localhost).

    An empty host, ``0.0.0.0`` and ``::`` mean "every interface", so they are not loopback.

    >>> is_loopback_host("127.0.0.1"), is_loopback_host("0.0.0.0"), is_loopback_host("localhost")
    (True, False, True)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _learner_base_url(host: str, port: int) -> str:
    """The OPENAI_BASE_URL learners use: a wildcard bind is reached by this machine's name."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/v1"


def _error_body(message: str, *, code: str, error_type: str = "invalid_request_error") -> bytes:
    error = {"message": message, "type": error_type, "param": None, "code": code}
    return json.dumps({"error": error}).encode()


class _ProxyServer(ThreadingHTTPServer):
    """The listening socket plus what every request handler needs to forward a request."""

    daemon_threads = True  # a stuck learner request must not keep the trainer's Ctrl+C waiting

    def __init__(self, address: tuple[str, int], *, api_key: str | None) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _ProxyHandler)
        self.api_key = api_key
        self.upstream_base_url = ""  # set once the model server is up
        self.client = httpx2.Client(transport=LocalAdapterTransport(), timeout=_UPSTREAM_TIMEOUT)


class _ProxyHandler(BaseHTTPRequestHandler):
    """Check the key, forward the request through the adapter, copy the answer back."""

    server: _ProxyServer
    protocol_version = "HTTP/1.1"  # keep-alive for the SDK; chunked encoding for streams

    def do_GET(self) -> None:  # http.server dispatches on these names
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def do_DELETE(self) -> None:
        self._forward()

    def _authorized(self) -> bool:
        if self.server.api_key is None or self.path.split("?")[0] in _UNAUTHENTICATED_PATHS:
            return True
        expected = f"Bearer {self.server.api_key}".encode()
        given = (self.headers.get("Authorization") or "").encode()
        return hmac.compare_digest(given, expected)

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not self._authorized():
            self._send_json(
                401,
                _error_body(
                    "Missing or wrong API key for this class server. Set OPENAI_API_KEY to the "
                    "key your trainer gave you.",
                    code="invalid_api_key",
                ),
            )
            return
        headers = [
            (name, value) for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP
        ]
        client = self.server.client
        request = client.build_request(
            self.command, self.server.upstream_base_url + self.path, headers=headers, content=body
        )
        try:
            response = client.send(request, stream=True)
        except httpx2.HTTPError as err:
            message = (
                f"The model server behind this class server did not answer ({type(err).__name__})."
                " Tell your trainer; restarting `course serve` fixes it."
            )
            self._send_json(502, _error_body(message, code="upstream_unavailable"))
            return
        try:
            self._copy_response(response)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the learner stopped reading (e.g. interrupted a stream); nothing to tell
        finally:
            response.close()

    def _copy_response(self, response: httpx2.Response) -> None:
        streaming = response.headers.get("content-type", "").startswith("text/event-stream")
        self.send_response(response.status_code)
        for name, value in response.headers.multi_items():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if not streaming:
            content = response.read()
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in response.iter_bytes():
            if chunk:
                self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_json(self, status: int, content: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        """One short line per request on stderr (never headers, so never the key)."""
        sys.stderr.write(f"{self.client_address[0]} {format % args}\n")


class ClassroomServer:
    """A running class server: the proxy thread and, unless given an upstream, llama.cpp.

    Attributes:
        host: The address the proxy is bound to.
        port: The port it listens on (the real one when 0 was asked for).
        url: The ``OPENAI_BASE_URL`` learners set, ending in ``/v1``.
        upstream_base_url: The llama.cpp server the proxy forwards to.
        model_name: The served model, when this server started it.
    """

    def __init__(
        self, proxy: _ProxyServer, *, local_server: object | None, model_name: str | None
    ) -> None:
        self._proxy = proxy
        self._local_server = local_server
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self.host, self.port = proxy.server_address[:2]
        self.url = _learner_base_url(str(self.host), int(self.port))
        self.upstream_base_url = proxy.upstream_base_url
        self.model_name = model_name
        self._thread = threading.Thread(
            target=proxy.serve_forever, name="course-serve", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`shutdown` ran (or ``timeout`` passed); True once it has."""
        return self._stopped.wait(timeout)

    def shutdown(self) -> None:
        """Stop accepting requests, close the socket and stop llama.cpp. Safe to call twice."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._proxy.shutdown()
            self._proxy.server_close()
            self._proxy.client.close()
            if self._local_server is not None:
                self._local_server.close()  # type: ignore[attr-defined]
            self._stopped.set()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped.is_set() else "running"
        return f"ClassroomServer({self.url!r}, {state})"


def _bind(host: str, port: int, api_key: str | None) -> _ProxyServer:
    try:
        return _ProxyServer((host, port), api_key=api_key)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"Port {port} on {host} is already in use (another `course serve` or program "
                f"holds it). Fix: stop that program, or pass --port {port + 1}."
            ) from None
        if err.errno == errno.EACCES:
            raise CourseError(
                f"Port {port} needs administrator rights on this machine. Fix: pass a port "
                "above 1023, e.g. --port 8080."
            ) from None
        if err.errno in (errno.EADDRNOTAVAIL, socket.EAI_NONAME):
            raise CourseError(
                f"{host!r} is not an address of this machine. Fix: pass --host 0.0.0.0 (all "
                "networks of this machine) or the address shown by `ip addr` / `ipconfig`."
            ) from None
        raise


def start_server(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    api_key: str | None = None,
    parallel: int = 4,
    threads: int | None = None,
    upstream_base_url: str | None = None,
) -> ClassroomServer:
    """Start the class server in background threads and return its handle at once.

    Args:
        host: Address to bind. Anything but loopback requires ``api_key``.
        port: Port to listen on; 0 picks a free one (tests).
        api_key: Key learners must send as ``Authorization: Bearer <key>``; None: no check.
        parallel: llama.cpp request slots, i.e. learners answered at the same time.
        threads: CPU threads for llama.cpp; default: ``COURSE_THREADS`` or every core (at most
            8), because a class server is the machine's main job
            (:func:`~enterprise_ai.local_server.class_server_threads`).
        upstream_base_url: Forward to this already running llama.cpp server (e.g.
            ``http://127.0.0.1:39813``) instead of starting one.

    Returns:
        The running :class:`ClassroomServer`; call ``.shutdown()`` to stop it.

    Raises:
        ApiKeyRequiredError: non-loopback ``host`` without ``api_key``.
        enterprise_ai.errors.PortInUseError: the port is taken.
        enterprise_ai.errors.CourseError: the host or port cannot be bound for another reason.
    """
    if not api_key and not is_loopback_host(host):
        raise ApiKeyRequiredError(
            f"Refusing to serve on {host!r} without an API key: anyone on the network could use "
            "this machine's model. Fix: pass --api-key <a secret you share with the class>."
        )
    proxy = _bind(host, port, api_key or None)  # bind first: a busy port fails before loading
    local_server = None
    model_name = None
    try:
        if upstream_base_url is None:
            from enterprise_ai.local_server import LocalServer, class_server_threads

            local_server = LocalServer(
                n_parallel=parallel, n_threads=threads or class_server_threads()
            )
            upstream_base_url = local_server.base_url
            model_name = local_server.model_name
    except BaseException:
        proxy.server_close()
        raise
    proxy.upstream_base_url = upstream_base_url.rstrip("/")
    return ClassroomServer(proxy, local_server=local_server, model_name=model_name)


def banner(server: ClassroomServer, *, api_key: str | None, parallel: int) -> str:
    """The few lines ``course serve`` prints: what learners put in ``.env``. Key shown masked."""
    model = server.model_name or "the model"
    lines = [
        f"course serve: {model} for the class, {parallel} requests at a time.",
        "Learners put these lines in their .env:",
        "  COURSE_BACKEND=compatible",
        f"  OPENAI_BASE_URL={server.url}",
    ]
    if api_key:
        lines.append(f"  OPENAI_API_KEY=<the key you chose: {mask_secret(api_key)}>")
    if server.host in ("", "0.0.0.0", "::"):
        lines.append(f"(If {server.url.split('/')[2]} does not resolve, use this machine's IP.)")
    lines.append("Stop with Ctrl+C.")
    return "\n".join(lines)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    api_key: str | None = None,
    parallel: int = 4,
    threads: int | None = None,
    ready: Callable[[ClassroomServer], object] | threading.Event | None = None,
    upstream_base_url: str | None = None,
) -> None:
    """Run the class server until Ctrl+C or ``ClassroomServer.shutdown()``; ``course serve``.

    Args:
        host: Address to bind; non-loopback addresses require ``api_key``.
        port: Port to listen on (0: a free one).
        api_key: Key learners must send; never printed, only shown masked.
        parallel: llama.cpp request slots.
        threads: CPU threads for llama.cpp; default: ``COURSE_THREADS`` or every core (max 8).
        ready: Called with the running :class:`ClassroomServer` once requests are accepted
            (so a test can read ``.url`` and later call ``.shutdown()``); a
            ``threading.Event`` is set instead.
        upstream_base_url: Use this running llama.cpp server instead of starting one.

    Raises:
        ApiKeyRequiredError: non-loopback ``host`` without ``api_key``.
        enterprise_ai.errors.PortInUseError: the port is taken.
    """
    server = start_server(
        host=host,
        port=port,
        api_key=api_key,
        parallel=parallel,
        threads=threads,
        upstream_base_url=upstream_base_url,
    )
    try:
        print(banner(server, api_key=api_key, parallel=parallel), flush=True)
        if isinstance(ready, threading.Event):
            ready.set()
        elif ready is not None:
            ready(server)
        while not server.wait(timeout=0.5):  # short waits keep Ctrl+C responsive
            pass
    finally:
        server.shutdown()
