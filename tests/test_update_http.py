"""HTTP layer of `data update`: retries with backoff, rate limits, truncation, offline, one-line errors.

No network: a fake transport replays answers, and a local stdlib HTTP server on
127.0.0.1 exercises the real urllib transport.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tariffsim.errors import DataError
from tariffsim.data.update_http import Offline, Response, RetryPolicy, fetch_json, get, redact, urllib_transport

FAST = RetryPolicy(attempts=3, backoff=0.01, max_wait=5.0, timeout=5.0)


def replay(*answers):
    """A transport answering each call with the next item (Response or exception)."""
    calls = []

    def transport(url, timeout):
        calls.append(url)
        a = answers[min(len(calls), len(answers)) - 1]
        if isinstance(a, Exception):
            raise a
        return a

    transport.calls = calls
    return transport


def test_rate_limit_is_retried_honouring_retry_after():
    waits = []
    t = replay(Response(429, b"Too Many Requests", {"retry-after": "2"}), Response(200, b"[[\"A\"]]"))
    assert fetch_json("https://api.census.gov/x", transport=t, retry=FAST, sleep=waits.append) == [["A"]]
    assert waits == [2.0] and len(t.calls) == 2


def test_rate_limit_exhausted_is_one_line_error_with_key_hint():
    t = replay(Response(429, b"", {}))
    with pytest.raises(DataError, match=r"rate limited \(HTTP 429\) after 3 tries; set CENSUS_API_KEY") as e:
        get("https://api.census.gov/data/x?key=SECRET", transport=t, retry=FAST, sleep=lambda s: None)
    assert "\n" not in str(e.value) and "SECRET" not in str(e.value)


def test_server_error_retried_with_exponential_backoff_then_error():
    waits = []
    t = replay(Response(500, b"Internal Server Error"))
    with pytest.raises(DataError, match="server error HTTP 500 after 3 tries"):
        get("https://hts.usitc.gov/reststop/x", transport=t, retry=FAST, sleep=waits.append)
    assert waits == pytest.approx([0.01, 0.02])


def test_server_error_then_success_loads():
    t = replay(Response(503, b""), Response(200, b"[1]"))
    assert fetch_json("https://h/x", transport=t, retry=FAST, sleep=lambda s: None) == [1]


def test_client_error_reports_the_apis_message_without_the_key():
    body = b"error: unknown variable 'GEN_VAL_MOO'"
    t = replay(Response(400, body))
    with pytest.raises(DataError) as e:
        get("https://api.census.gov/data/x?get=A&key=SECRET", transport=t, retry=FAST, sleep=lambda s: None)
    msg = str(e.value)
    assert "HTTP 400" in msg and "unknown variable 'GEN_VAL_MOO'" in msg and "SECRET" not in msg and "key=***" in msg
    assert len(t.calls) == 1  # 4xx is not retried


def test_truncated_json_is_retried_then_reported():
    t = replay(Response(200, b'[["CTY_CODE","CTY_NAME"],["5880","JAP'))
    with pytest.raises(DataError, match="truncated answer"):
        fetch_json("https://h/x", transport=t, retry=FAST, sleep=lambda s: None)
    assert len(t.calls) == 3


def test_html_instead_of_json_is_an_unexpected_shape():
    t = replay(Response(200, b"<html><body>Invalid Key</body></html>"))
    with pytest.raises(DataError, match="not JSON.*Invalid Key"):
        fetch_json("https://api.census.gov/x", transport=t, retry=FAST, sleep=lambda s: None)


def test_offline_fails_at_once_with_clear_message():
    t = replay(Offline("[Errno -3] Temporary failure in name resolution"))
    with pytest.raises(DataError, match=r"cannot reach api.census.gov \(offline\?\)"):
        get("https://api.census.gov/x", transport=t, retry=FAST, sleep=lambda s: None)
    assert len(t.calls) == 1


def test_no_content_is_none():
    assert fetch_json("https://h/x", transport=replay(Response(204, b"")), retry=FAST, sleep=lambda s: None) is None


def test_redact_hides_the_key():
    assert redact("https://a/b?get=X&key=abc123&time=2025-01") == "https://a/b?get=X&key=***&time=2025-01"


# ---------------------------------------------------------------- real urllib transport, local server

class _Handler(BaseHTTPRequestHandler):
    script: dict = {}
    hits: dict = {}

    def log_message(self, *a):  # keep test output quiet
        pass

    def do_GET(self):  # noqa: N802
        path = self.path.split("?")[0]
        n = self.hits[path] = self.hits.get(path, 0) + 1
        steps = self.script[path]
        status, body, headers = steps[min(n, len(steps)) - 1]
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def server():
    _Handler.script, _Handler.hits = {}, {}
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", _Handler
    srv.shutdown()
    srv.server_close()


def test_urllib_transport_retries_429_and_500_then_loads(server):
    base, h = server
    h.script["/ok"] = [(429, b"slow down", {"Retry-After": "0"}), (500, b"oops", {}), (200, b'[["A"],["1"]]', {})]
    out = fetch_json(base + "/ok", transport=urllib_transport, retry=FAST, sleep=lambda s: None)
    assert out == [["A"], ["1"]] and h.hits["/ok"] == 3


def test_urllib_transport_truncated_body_is_an_error(server):
    base, h = server
    h.script["/cut"] = [(200, b'[["A"],["1"', {"Content-Length": "500"})]
    with pytest.raises(DataError, match="truncated"):
        fetch_json(base + "/cut", transport=urllib_transport,
                   retry=RetryPolicy(attempts=2, backoff=0.0, timeout=2.0), sleep=lambda s: None)


def test_urllib_transport_http_error_body_is_read(server):
    base, h = server
    h.script["/bad"] = [(400, b"error: invalid 'time' value", {})]
    with pytest.raises(DataError, match="HTTP 400.*invalid 'time' value"):
        get(base + "/bad", transport=urllib_transport, retry=FAST, sleep=lambda s: None)


def test_urllib_transport_connection_refused_is_offline():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(DataError, match=r"cannot reach 127.0.0.1:\d+ \(offline\?\)"):
        get(f"http://127.0.0.1:{port}/x", transport=urllib_transport, retry=FAST, sleep=lambda s: None)

