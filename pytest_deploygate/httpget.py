"""A small HTTP GET for evidence: timeouts always, TLS verified, redirects never followed.

Redirects are reported, not followed: a health endpoint that answers 302 to a login page (or
to another host) has not answered healthy.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

#: Bodies larger than this are cut: evidence is a status and a small document.
MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class HttpAnswer:
    """What the server answered (any status), or why nothing usable came back."""

    url: str
    status: int | None
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def http_get(url: str, timeout: float, headers: dict[str, str] | None = None,
             verify_tls: bool = True, ca_file: str | None = None) -> HttpAnswer:
    """GET ``url``; never raises for network trouble, which is returned as ``error``."""
    if not url.startswith(("http://", "https://")):
        return HttpAnswer(url, None, error="only http:// and https:// URLs are allowed")
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect(), urllib.request.ProxyHandler({})]
    if url.startswith("https://"):
        handlers.append(urllib.request.HTTPSHandler(context=_tls_context(verify_tls, ca_file)))
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(url, headers=headers or {}, method="GET")
    start = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as response:
            body = _read(response, start, timeout)
            return HttpAnswer(url, response.status, body, time.monotonic() - start)
    except urllib.error.HTTPError as exc:  # 4xx, 5xx and unfollowed 3xx
        try:
            body = _read(exc, start, timeout)
        except (OSError, TimeoutError):
            body = b""
        location = exc.headers.get("Location") if exc.headers else None
        error = f"redirected to {location} (not followed)" if location and 300 <= exc.code < 400 \
            else None
        return HttpAnswer(url, exc.code, body, time.monotonic() - start, error)
    except TimeoutError:
        return HttpAnswer(url, None, elapsed=time.monotonic() - start,
                          error=f"no answer within {timeout:g}s")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            text = f"no answer within {timeout:g}s"
        else:
            text = str(getattr(reason, "strerror", None) or reason)
        return HttpAnswer(url, None, elapsed=time.monotonic() - start, error=text)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # Resets, truncated answers, garbage instead of HTTP: no usable answer.
        return HttpAnswer(url, None, elapsed=time.monotonic() - start,
                          error=f"{type(exc).__name__}: {exc}".rstrip(": "))


@functools.lru_cache(maxsize=8)
def _tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    # Loading the CA store costs tens of milliseconds: once per setting, not per request.
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _read(response: object, start: float, timeout: float) -> bytes:
    data = response.read(MAX_BODY_BYTES + 1)  # type: ignore[attr-defined]
    if time.monotonic() - start > timeout * 4:
        raise TimeoutError
    return data[:MAX_BODY_BYTES]
