"""Real servers on 127.0.0.1 for the network evidence tests: a controllable HTTP service with
/metrics, a real Prometheus scraping it (Debian's prometheus binary), and an auth proxy."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops concurrent connects (and the client retries a
    # second later), which would measure the test server, not the plugin.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket],
                     client_address: tuple[str, int]) -> None:
        # A probe that times out closes its end, so the late reply fails with a broken pipe:
        # expected, and not printed. Printing it would be harmful too: Python 3.11 draws the
        # traceback's carets with ast.parse on this thread, which can race the assertion
        # rewriting of an in-process pytester run and fail it with "SystemError: AST constructor
        # recursion depth mismatch" (CPython gh-106905).
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Background:
    """A loopback server run on a daemon thread: ``url`` while running, ``close()`` to stop."""

    def _serve(self, handler: type[BaseHTTPRequestHandler],
               tls: ssl.SSLContext | None = None) -> None:
        self.server = _Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.url = self.url.replace("http://", "https://")
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Service:
    """A small HTTP service: health paths with chosen behaviour, and /metrics whose counters
    advance with wall time at a chosen request rate and error ratio."""

    def __init__(self) -> None:
        self.error_ratio = 0.0
        self.slow_fraction = 0.0  # share of requests in the 2.5 s latency bucket
        self.rps = 100.0
        self.requests: dict[str, int] = {}
        self._totals = {"ok": 0.0, "err": 0.0, "fast": 0.0, "slow": 0.0}
        self._last = time.monotonic()
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with service._lock:
                    service.requests[path] = service.requests.get(path, 0) + 1
                    count = service.requests[path]
                if path == "/metrics":
                    return self._send(200, service.exposition().encode())
                if path.startswith("/delay/"):
                    time.sleep(float(path.rsplit("/", 1)[1]) / 1000)
                    return self._send(200, b"ok")
                if path == "/hang":
                    time.sleep(5)
                    return self._send(200, b"late")
                if path == "/down":
                    return self._send(503, b"down")
                if path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://example.invalid/login")
                    self.end_headers()
                    return None
                if path.startswith("/fail-first/"):
                    failures = int(path.rsplit("/", 1)[1])
                    return self._send(503 if count <= failures else 200, b"x")
                return self._send(200, b"ok")

            def _send(self, status: int, body: bytes) -> None:
                _reply(self, status, body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Service:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def exposition(self) -> str:
        with self._lock:
            now = time.monotonic()
            served = self.rps * (now - self._last)
            self._last = now
            self._totals["err"] += served * self.error_ratio
            self._totals["ok"] += served * (1 - self.error_ratio)
            self._totals["slow"] += served * self.slow_fraction
            self._totals["fast"] += served * (1 - self.slow_fraction)
            t = dict(self._totals)
        fast, total = t["fast"], t["fast"] + t["slow"]
        return "\n".join([
            "# TYPE http_requests_total counter",
            f'http_requests_total{{code="200"}} {t["ok"]:.3f}',
            f'http_requests_total{{code="500"}} {t["err"]:.3f}',
            "# TYPE http_request_duration_seconds histogram",
            f'http_request_duration_seconds_bucket{{le="0.1"}} {fast:.3f}',
            f'http_request_duration_seconds_bucket{{le="2.5"}} {total:.3f}',
            f'http_request_duration_seconds_bucket{{le="5"}} {total:.3f}',
            f'http_request_duration_seconds_bucket{{le="+Inf"}} {total:.3f}',
            f"http_request_duration_seconds_count {total:.3f}",
            "",
        ])


RULES = """groups:
  - name: acme
    rules:
      - alert: HighErrorRatio
        expr: >-
          sum(rate(http_requests_total{code=~"5.."}[5s]))
          / sum(rate(http_requests_total[5s])) > 0.5
        for: 1m
"""


class Alertmanager(_Background):
    """A tiny stand-in for an Alertmanager on 127.0.0.1: answers ``/-/healthy`` and accepts
    the alerts Prometheus POSTs to ``/api/v2/alerts`` (kept in ``received``)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                _reply(self, 200, b"OK")

            def do_POST(self) -> None:
                receiver.received.append(self.rfile.read(int(self.headers["Content-Length"]
                                                             or 0)))
                _reply(self, 200, b"")

        self._serve(Handler)
        self.target = self.url.removeprefix("http://")


class Prometheus:
    """Debian's prometheus binary on a free loopback port, scraping targets every second.

    ``alertmanagers``: the ``alerting: alertmanagers:`` section (a list of Alertmanager
    configs, e.g. ``[{"static_configs": [{"targets": ["127.0.0.1:9093"]}]}]``); none when
    not given."""

    def __init__(self, workdir: Path, targets: list[str], job: str = "acme-api",
                 alertmanagers: list[dict[str, object]] | None = None) -> None:
        self.binary = shutil.which("prometheus")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "rules.yml").write_text(RULES)
        config: dict[str, object] = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(workdir / "rules.yml")],
            "scrape_configs": [{"job_name": job, "static_configs": [{"targets": targets}]}],
        }
        if alertmanagers is not None:
            config["alerting"] = {"alertmanagers": alertmanagers}
        (workdir / "prometheus.yml").write_text(json.dumps(config))
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Prometheus:
        assert self.binary is not None
        self.process = subprocess.Popen(
            [self.binary, f"--config.file={self.workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=(self.workdir / "prometheus.log").open("wb"))
        self.wait_for(lambda: self._get("/-/ready") is not None, "ready")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _get(self, path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=2) as response:
                body: bytes = response.read()
                return body
        except (urllib.error.URLError, OSError):
            return None

    def value(self, expr: str) -> float | None:
        """An instant query's first value, or None."""
        body = self._get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        if body is None:
            return None
        result = json.loads(body).get("data", {}).get("result") or []
        return float(result[0]["value"][1]) if result else None

    def rule_health(self) -> dict[str, str]:
        """Every alerting rule's health as the rules API says (``ok``, ``err``, ``unknown``
        until first evaluated); empty when the API does not answer."""
        body = self._get("/api/v1/rules?type=alert")
        if body is None:
            return {}
        groups = json.loads(body).get("data", {}).get("groups") or []
        return {rule["name"]: rule.get("health", "unknown")
                for group in groups for rule in group.get("rules") or []}

    def alertmanagers(self) -> dict[str, list[str]]:
        """The URLs of ``/api/v1/alertmanagers`` by list (``active``, ``dropped``); empty
        lists when the API does not answer."""
        body = self._get("/api/v1/alertmanagers")
        data = json.loads(body).get("data", {}) if body is not None else {}
        return {"active": [a["url"] for a in data.get("activeAlertmanagers") or []],
                "dropped": [a["url"] for a in data.get("droppedAlertmanagers") or []]}

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 45) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                log = (self.workdir / "prometheus.log").read_text()
                raise RuntimeError(f"prometheus exited: {log[-2000:]}")
            if condition():
                return
            time.sleep(0.25)
        raise TimeoutError(f"prometheus: not {what} within {timeout}s")


class TlsService(_Background):
    """An HTTPS server on 127.0.0.1 answering 200 "ok", with a self-signed certificate for
    127.0.0.1 made by ``openssl`` (``certificate``: the PEM a client may trust)."""

    def __init__(self, directory: Path) -> None:
        self.certificate = directory / "selfsigned.pem"
        key = directory / "selfsigned.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(self.certificate)],
                       check=True, capture_output=True)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                _reply(self, 200, b"ok")

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, key)
        self._serve(Handler, context)


class AuthProxy(_Background):
    """Forwards GETs to an upstream only with the expected Authorization header (so a test
    can prove credentials are sent, and that they never reach a record)."""

    def __init__(self, upstream: str, expected: str) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                given = self.headers.get("Authorization", "")
                proxy.seen.append(given)
                if given != expected:
                    _reply(self, 401, b'{"status":"error","error":"unauthorized"}')
                    return
                with urllib.request.urlopen(upstream + self.path, timeout=5) as answer:
                    _reply(self, 200, answer.read())

        self._serve(Handler)


class FakeApi(_Background):
    """A real HTTP server on 127.0.0.1 that answers like a broken Prometheus or a broken
    health endpoint; the first path segment picks the behaviour."""

    ANSWERS: ClassVar[dict[str, tuple[int, bytes]]] = {
        "ok": (200, b'{"status":"success","data":{"resultType":"vector","result":'
                    b'[{"metric":{},"value":[1,"0.01"]}]}}'),
        "500": (500, b"internal error"),
        "garbage": (200, b"\x00\xff<html>not json"),
        "empty": (200, b'{"status":"success","data":{"resultType":"vector","result":[]}}'),
        "nan": (200, b'{"status":"success","data":{"resultType":"vector","result":'
                     b'[{"metric":{},"value":[1,"NaN"]}]}}'),
        "inf": (200, b'{"status":"success","data":{"resultType":"vector","result":'
                     b'[{"metric":{},"value":[1,"+Inf"]}]}}'),
        "matrix": (200, b'{"status":"success","data":{"resultType":"matrix","result":'
                        b'[{"metric":{},"values":[[1,"0.01"]]}]}}'),
        "error": (422, b'{"status":"error","errorType":"bad_data","error":"parse error"}'),
    }

    def __init__(self) -> None:
        import socket as socket_module
        import struct

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                mode = self.path.strip("/").split("/")[0].split("?")[0]
                if mode == "hang":
                    time.sleep(10)
                    return
                if mode == "reset":
                    self.request.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_LINGER,
                                            struct.pack("ii", 1, 0))
                    self.request.close()
                    return
                if mode == "away":
                    self.send_response(302)
                    self.send_header("Location", "https://login.example.invalid/sso")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                _reply(self, *FakeApi.ANSWERS.get(mode, (404, b"unknown mode")))

        self._serve(Handler)


class ScriptedApi(_Background):
    """A real HTTP server on 127.0.0.1 answering each path's first segment from ``answers``
    (status, body), which a test fills in; ``seen`` keeps every request's path and headers.
    An answer keyed by a whole path (``/mode/api/v1/alertmanagers``) wins over its mode's."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                api.seen.append((self.path, dict(self.headers)))
                path = self.path.split("?")[0]
                mode = path.strip("/").split("/")[0]
                _reply(self, *api.answers.get(path, api.answers.get(mode,
                                                                    (404, b"unknown mode"))))

        self._serve(Handler)
