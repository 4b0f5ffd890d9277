"""The site's HTTP protections, on every route (Flask's, the API's and Dash's alike).

- Every response says what the browser may do with it: a Content-Security-Policy that
  runs only the site's own scripts (Dash's inline start-up script by its hash) and lets no
  other site frame a page (``frame-ancestors 'none'``: ``/vote``, where credentials are
  typed, cannot be framed), ``nosniff``, no referrer. Data Docs, which Great Expectations
  writes with links to third-party scripts, are served in a CSP sandbox without scripts:
  a separate, opaque origin that can touch nothing of the voting pages.
- No request body is larger than ``MAX_BODY_BYTES`` (chunked ones included: Werkzeug stops
  reading at the limit and answers 413).
- ``ClientRateLimit``: each client (by address) may cast about ``per_minute`` ballots a
  minute, in bursts of up to a quarter of that; past it the API answers 429 with
  ``Retry-After``. The count is per site process (``tallyflow up`` runs one).
- ``client_address``: the client a request comes from. Behind a reverse proxy every
  request comes from the proxy, so the address it forwards (``X-Forwarded-For``) is used,
  but only from the proxies named in ``TALLYFLOW_TRUSTED_PROXIES``: anyone else could write
  any address there and dodge the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from flask import Flask, Response, request

MAX_BODY_BYTES = 128 * 1024

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
DATA_DOCS_POLICY = ("sandbox; default-src 'none'; style-src 'self' 'unsafe-inline'; "
                    "img-src 'self' data:; frame-ancestors 'none'")


def page_policy(script_hashes: list[str]) -> str:
    """The CSP of every page but Data Docs. Styles may be inline (Dash and Plotly set
    them); scripts may not, but for Dash's own start-up script, named by its hash."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def protect(server: Flask, script_hashes: Callable[[], list[str]]) -> None:
    """Install the headers and the body limit on ``server``. ``script_hashes`` is asked
    on each response: Dash adds inline scripts (its pages' title callback) when it sets
    itself up on the first request."""
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @server.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(_COMMON)
        response.headers["Content-Security-Policy"] = (
            DATA_DOCS_POLICY if request.path.startswith("/data-docs")
            else page_policy(script_hashes()))
        return response


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: tuple[str, ...]) -> str | None:
    """The client's address: ``peer``, unless it is a trusted proxy, in which case the
    right-most address of ``forwarded_for`` that is not one (each proxy appends the peer
    it saw, so what stands left of the first untrusted one may be forged)."""
    import ipaddress

    networks = [ipaddress.ip_network(n) for n in trusted]

    def is_trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if peer is None or not networks or not is_trusted(peer):
        return peer
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop
    return hops[0] if hops else peer


class ClientRateLimit:
    """A token bucket per client address; thread-safe."""

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1.0, per_minute / 4)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)
        self._lock = threading.Lock()

    def wait(self, client: str) -> int:
        """0 and one ballot taken from the client's bucket, or the whole seconds to wait."""
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                if len(self._buckets) > 100_000:  # forget the idle ones, oldest first
                    for old in sorted(self._buckets, key=lambda c: self._buckets[c][1])[:50_000]:
                        del self._buckets[old]
                return 0
            self._buckets[client] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))
