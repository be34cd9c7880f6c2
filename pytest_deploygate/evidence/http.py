"""A small HTTP GET for evidence: timeouts always, TLS verified, redirects never followed.

Redirects are reported, not followed: a health endpoint that answers 302 to a login page (or
to another host) has not answered healthy.

urllib's opener, ``http.client`` and ``ssl`` are imported by the first request, not with this
module: a spec that names an HTTP check is loaded (and ``deploygate verdict`` reads it) without
them, and a run whose endpoints are all overridden never pays for them.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import base64
import functools
import re
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pytest_deploygate.core.redaction import (
    ambiguous_userinfo,
    redact_text,
    redact_url,
    url_secrets,
)
from pytest_deploygate.core.value_class import replace, value_class

if TYPE_CHECKING:
    import ssl
    import urllib.request

#: Bodies larger than this are cut: evidence is a status and a small document.
MAX_BODY_BYTES = 8 * 1024 * 1024


@value_class(frozen=True)
class HttpAnswer:
    """What the server answered (any status), or why nothing usable came back."""

    url: str  # as shown: redacted
    status: int | None
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


# Characters http.client refuses in a header value (it would quote the value in its error).
_UNSENDABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@functools.cache
def _no_redirect() -> type[urllib.request.HTTPRedirectHandler]:
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    return NoRedirect


def http_get(url: str, timeout: float, headers: dict[str, str] | None = None,
             verify_tls: bool = True, ca_file: str | None = None) -> HttpAnswer:
    """GET ``url``; never raises for network trouble, which is returned as ``error``.

    Credentials in the URL (``user:password@``) are sent as a Basic ``Authorization`` header,
    never as part of the host; the error text never holds any secret part of the URL.
    """
    answer = replace(_get(url, timeout, headers, verify_tls, ca_file), url=redact_url(url))
    if answer.error:
        secrets = url_secrets(url)
        for value in (headers or {}).values():
            secrets |= {value, value.split(" ")[-1]}
        return replace(answer, error=redact_text(answer.error, secrets))
    return answer


def _split_userinfo(url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, headers
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
    if not any(name.lower() == "authorization" for name in headers):
        headers = {**headers,
                   "Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), headers


def _get(url: str, timeout: float, headers: dict[str, str] | None, verify_tls: bool,
         ca_file: str | None) -> HttpAnswer:
    import http.client
    import socket
    import ssl
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        return HttpAnswer(url, None, error="only http:// and https:// URLs are allowed")
    if ambiguous_userinfo(url) is not None:
        # Sending it would put part of a password in the host name, and into the error text.
        return HttpAnswer(url, None, error="not a usable URL: an '@' after the host; "
                          "percent-encode '/', '?', '#' and '@' in a user name or password")
    for name, value in (headers or {}).items():
        if _UNSENDABLE.search(value) or not value.isascii():
            # http.client would quote the value in its error: refuse it without showing it.
            return HttpAnswer(url, None, error=f"header {name!r} has a value that cannot be "
                              "sent (a control character or a non-ASCII character)")
    try:
        url, headers = _split_userinfo(url, dict(headers or {}))
    except ValueError as exc:
        return HttpAnswer(url, None, error=f"not a usable URL: {exc}")
    handlers: list[urllib.request.BaseHandler] = [_no_redirect()(),
                                                  urllib.request.ProxyHandler({})]
    if url.startswith("https://"):
        try:
            context = _tls_context(verify_tls, ca_file)
        except (ValueError, ssl.SSLError) as exc:  # (a CA file OpenSSL cannot read)
            return HttpAnswer(url, None, error=str(exc))
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    try:
        request = urllib.request.Request(url, headers=headers, method="GET")
    except ValueError as exc:
        return HttpAnswer(url, None, error=f"not a usable URL: {exc}")
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
        error = (f"redirected to {redact_url(location)} (not followed)"
                 if location and 300 <= exc.code < 400 else None)
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


def _tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """The TLS settings of a request; ``ValueError`` naming the CA file when it is unusable.

    The CA file is read once, as every file the gate is given is (a named pipe or a link to
    /dev/zero must not hang it), and those very bytes are what OpenSSL trusts: it never
    opens the path itself, which may have changed in between.
    """
    if not ca_file:
        return _tls_context_of(verify, None)
    from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES
    from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file

    try:
        text = read_regular_file(Path(ca_file), DEFAULT_DOCUMENT_BYTES).decode("latin-1")
    except UnusableFile as exc:
        raise ValueError(f"CA file {ca_file}: {exc.reason}") from None
    except OSError as exc:
        raise ValueError(f"CA file {ca_file}: {exc.strerror or exc}") from None
    # Only the certificates: a bundle's comments between them may be any text (an issuer's
    # name in UTF-8), which OpenSSL skips in a file but ``cadata`` must not hold.
    pem = "\n".join(found.group() for found in _PEM_CERTIFICATE.finditer(text))
    if not pem:
        # An empty cadata is no cadata to ssl.create_default_context: it would trust the
        # system's CAs instead of the one named, so a CA file without one trusts nothing.
        raise ValueError(f"CA file {ca_file}: holds no certificate")
    import ssl

    try:
        return _tls_context_of(verify, pem)
    except ssl.SSLError as exc:  # OpenSSL's words name no file ("no start line: cadata ...")
        raise ValueError(f"CA file {ca_file}: not a PEM certificate ({exc.reason or exc})"
                         ) from None


#: A PEM certificate block, as OpenSSL reads one from ``cadata``.
_PEM_CERTIFICATE = re.compile(r"-----BEGIN (CERTIFICATE|X509 CERTIFICATE|TRUSTED CERTIFICATE)"
                              r"-----[\s\S]*?-----END \1-----")


@functools.lru_cache(maxsize=8)
def _tls_context_of(verify: bool, pem: str | None) -> ssl.SSLContext:
    # Loading the CA store costs tens of milliseconds: once per setting and content of the
    # CA file, not per request (a CA file replaced between two runs in one process counts).
    import ssl

    context = ssl.create_default_context(cadata=pem)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _Readable(Protocol):
    """An HTTP answer's body: a response, or the HTTPError that stands for one."""

    def read(self, amt: int, /) -> bytes: ...


def _read(response: _Readable, start: float, timeout: float) -> bytes:
    data = response.read(MAX_BODY_BYTES + 1)
    if time.monotonic() - start > timeout * 4:
        raise TimeoutError
    return data[:MAX_BODY_BYTES]
