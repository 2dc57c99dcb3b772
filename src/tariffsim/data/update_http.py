"""HTTP for data updates: one injectable transport, retries with backoff, and a cache of answers.

Every network call of ``tariffsim data update ...`` goes through a
:data:`Transport` (``transport(url, timeout) -> Response``); the default uses
``urllib``. :func:`get` retries with exponential backoff on rate limits (HTTP
429, honouring ``Retry-After``), server errors (5xx) and truncated answers;
every other failure is a one-line :class:`~tariffsim.errors.DataError`.
:func:`fetch_json` decodes JSON and retries bodies cut short. Answers are cached
under ``$TARIFFSIM_HOME/cache/<source>/`` by the SHA-256 of the URL with any API
key redacted (:func:`redact`): the key never reaches a file name, a log or a manifest.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import http.client
import json
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import DataError

CENSUS_KEY_ENV = "CENSUS_API_KEY"
#: ``progress(done, total, label)``: called after each request of an update.
Progress = Callable[[int, int, str], None]


def _now() -> str:
    """Current UTC time, ISO 8601 with milliseconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def _report(progress: Progress | None, done: int, total: int, label: str) -> None:
    if progress is not None:
        progress(done, total, label)


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, body and headers (names lower-cased)."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class Offline(Exception):
    """The host could not be reached (no network, DNS failure, refused)."""


class Truncated(Exception):
    """The connection closed before the whole answer arrived."""


Transport = Callable[[str, float], Response]


def urllib_transport(url: str, timeout: float) -> Response:
    """Default transport: one GET with ``urllib``; HTTP errors come back as a :class:`Response`."""
    from .. import __version__

    req = urllib.request.Request(url, headers={"User-Agent": f"tariffsim/{__version__}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - https/http URLs we build
            return Response(r.status, r.read(), {k.lower(): v for k, v in r.headers.items()})
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read()
        except Exception:  # noqa: BLE001 - body of an error page is best effort
            body = b""
        return Response(exc.code, body, {k.lower(): v for k, v in (exc.headers or {}).items()})
    except http.client.IncompleteRead as exc:
        raise Truncated(f"{len(exc.partial)} bytes received") from None
    except urllib.error.URLError as exc:
        raise Offline(str(getattr(exc, "reason", exc))) from None
    except (TimeoutError, socket.timeout, ConnectionError, http.client.HTTPException, OSError) as exc:
        raise Offline(f"{type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, backoff base (s), cap on one wait (s), timeout (s)."""

    attempts: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0
    timeout: float = 120.0


def redact(url: str) -> str:
    """The URL with any API key hidden (never written to cache names, logs or manifests)."""
    return re.sub(r"([?&]key=)[^&]*", r"\1***", url)


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _retry_after(resp: Response, default: float, cap: float) -> float:
    try:
        return min(cap, max(0.0, float(resp.headers.get("retry-after", default))))
    except ValueError:
        return min(cap, default)


def get(url: str, *, transport: Transport, retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep) -> Response:
    """GET with retries; returns a 200 or 204 answer or raises a one-line :class:`DataError`.

    Retried with exponential backoff: 429 (waiting ``Retry-After`` when given),
    5xx, a truncated body, and a dropped connection. A DNS failure or refused
    connection on the first try means "offline" and fails at once.
    """
    host, shown = _host(url), redact(url)
    last = ""
    for attempt in range(retry.attempts):
        wait = retry.backoff * 2 ** attempt
        try:
            resp = transport(url, retry.timeout)
        except Offline as exc:
            if attempt == 0 and _looks_offline(str(exc)):
                raise DataError(f"cannot reach {host} (offline?): {exc}") from None
            last = f"connection failed ({exc})"
        except Truncated as exc:
            last = f"truncated answer ({exc})"
        else:
            if resp.status in (200, 204):
                return resp
            if resp.status == 429:
                last = "rate limited (HTTP 429)"
                wait = _retry_after(resp, wait, retry.max_wait)
            elif resp.status >= 500:
                last = f"server error HTTP {resp.status}"
            else:
                raise DataError(f"{host} answered HTTP {resp.status} to {shown}: {_first_line(resp.body)}")
        if attempt + 1 < retry.attempts:
            sleep(min(wait, retry.max_wait))
    hint = f"; set {CENSUS_KEY_ENV} or try later" if "429" in last and "census" in host else "; try later"
    raise DataError(f"{host}: {last} after {retry.attempts} tries{hint}")


def _looks_offline(reason: str) -> bool:
    r = reason.lower()
    return any(s in r for s in ("name or service not known", "nodename nor servname", "temporary failure in name",
                                "getaddrinfo", "no address associated", "network is unreachable", "connection refused",
                                "no route to host"))


def _first_line(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    text = re.sub(r"<[^>]+>", " ", text) if text.startswith("<") else text
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "(empty body)")
    return line[:200]


def _decode_json(resp: Response, what: str, host: str) -> Any:
    """JSON of an answer; a body cut short is :class:`Truncated`, anything else a shape error."""
    text = resp.body.decode("utf-8", "replace").lstrip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if text[:1] in "[{" and text:
            raise Truncated(f"{what}: JSON ends early at {len(resp.body)} bytes") from None
        raise DataError(f"{host}: unexpected answer to {what}: not JSON ({_first_line(resp.body)})") from None


def fetch_json(url: str, *, transport: Transport, retry: RetryPolicy = RetryPolicy(),
               sleep: Callable[[float], None] = time.sleep, what: str = "request") -> Any | None:
    """GET and decode JSON, retrying truncated bodies; ``None`` for 204 No Content."""
    host = _host(url)
    for attempt in range(retry.attempts):
        resp = get(url, transport=transport, retry=retry, sleep=sleep)
        if resp.status == 204 or not resp.body.strip():
            return None
        try:
            return _decode_json(resp, what, host)
        except Truncated as exc:
            if attempt + 1 == retry.attempts:
                raise DataError(f"{host}: truncated answer to {what} after {retry.attempts} tries ({exc})") from None
            sleep(min(retry.backoff * 2 ** attempt, retry.max_wait))
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- cache of answers

def _cache_path(home: Path, source: str, url: str) -> Path:
    digest = hashlib.sha256(redact(url).encode()).hexdigest()[:32]
    return home / "cache" / source / f"{digest}.json"


def _cached_page(home: Path, source: str, url: str, refresh: bool) -> tuple[bool, Any]:
    path = _cache_path(home, source, url)
    if refresh or not path.exists():
        return False, None
    try:
        return True, json.loads(path.read_text())["payload"]
    except (OSError, ValueError, KeyError):
        return False, None  # a damaged cache entry is simply fetched again


def _store_page(home: Path, source: str, url: str, payload: Any) -> None:
    path = _cache_path(home, source, url)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps({"url": redact(url), "retrieved_at": _now(), "payload": payload}))
    os.replace(tmp, path)



__all__ = ["Response", "Offline", "Truncated", "Transport", "urllib_transport", "RetryPolicy", "redact", "get",
           "fetch_json", "Progress", "CENSUS_KEY_ENV"]
