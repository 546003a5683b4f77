"""One polite HTTP GET of a feed: conditional, bounded in time, size and redirects.

requests does the HTTP (gzip, redirects, connection reuse); this module only sets its limits
and turns every way a fetch can fail into a FeedError with a reason a person can read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version

import requests

from index.articles import MAX_FILE_BYTES
from index.errors import IndexError_

CHUNK = 16 * 1024  # small reads: a gzip bomb inflates one chunk at a time, then is cut off
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)


class FeedError(IndexError_):
    """A feed could not be fetched or read; `retry_after` is the server's wish, in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """How long, how large and how far a fetch may go."""

    timeout: float = 10.0  # seconds to connect, and to wait for each read
    total: float = 60.0  # seconds for the whole response: a trickling server is cut off
    max_bytes: int = MAX_FILE_BYTES  # no feed worth reading is larger than an article file
    max_redirects: int = 5


@dataclass(frozen=True)
class Fetched:
    """A feed's answer: its body (None: 304, not modified) and validators for the next GET."""

    body: bytes | None
    etag: str = ""
    last_modified: str = ""
    url: str = ""  # where it came from in the end, after redirects
    content_type: str = ""


def user_agent() -> str:
    """Return the honest User-Agent every feed request carries."""
    try:
        ours = version("newsqa")
    except PackageNotFoundError:  # run from a checkout that was never installed
        ours = "dev"
    return f"newsqa/{ours} (feed poller; +docs/feeds.md)"


def open_session(limits: Limits) -> requests.Session:
    """Return a session with our User-Agent and redirect limit, ignoring the environment."""
    session = requests.Session()
    # Proxies, CA bundles and .netrc credentials from the environment are not ours to read:
    # only index/settings.py reads it, and a feed host must not be sent a netrc password.
    session.trust_env = False
    session.max_redirects = limits.max_redirects
    session.headers.update({"User-Agent": user_agent(), "Accept": _ACCEPT})
    return session


def fetch(
    session: requests.Session,
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    limits: Limits = Limits(),  # noqa: B008 (frozen, so one shared default is safe)
    clock: Callable[[], float] = time.monotonic,
) -> Fetched:
    """GET a feed, conditionally if validators are given; raise FeedError saying why not."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = clock() + limits.total
    try:
        with session.get(
            url, headers=headers, timeout=limits.timeout, stream=True, allow_redirects=True
        ) as response:
            if response.status_code == 304:
                return Fetched(None, etag, last_modified, response.url)
            _check_status(response)
            body = _read(response, limits, deadline, clock)
            return Fetched(
                body,
                response.headers.get("ETag", ""),
                response.headers.get("Last-Modified", ""),
                response.url,
                response.headers.get("Content-Type", ""),
            )
    except requests.TooManyRedirects:
        raise FeedError(f"more than {limits.max_redirects} redirects (a redirect loop?)") from None
    except requests.Timeout:
        raise FeedError(f"timed out (no answer within {limits.timeout:g} s)") from None
    except requests.ConnectionError as err:
        raise FeedError(_connection_reason(err, limits)) from None
    except requests.RequestException as err:
        raise FeedError(f"request failed: {err}") from None


def _check_status(response: requests.Response) -> None:
    """Raise FeedError unless the answer is 200 OK."""
    code = response.status_code
    if code == 200:
        return
    retry = _retry_after(response.headers.get("Retry-After", "")) if code in (429, 503) else None
    reason = f"HTTP {code} {response.reason or ''}".strip()
    raise FeedError(reason if code >= 400 else f"unexpected answer {reason}", retry)


def _retry_after(value: str) -> float | None:
    """Return a Retry-After header's wait in seconds (it may be a number or a date)."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _read(response: requests.Response, limits: Limits, deadline: float, clock) -> bytes:
    """Read the body in chunks, stopping as soon as it is too large or too slow."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FeedError(f"too large ({int(declared):,} bytes, limit {limits.max_bytes:,})")
    chunks, size = [], 0
    for chunk in response.iter_content(CHUNK):
        size += len(chunk)
        if size > limits.max_bytes:
            raise FeedError(f"too large (over {limits.max_bytes:,} bytes): stopped reading")
        if clock() > deadline:
            raise FeedError(f"too slow (over {limits.total:g} s): stopped reading")
        chunks.append(chunk)
    return b"".join(chunks)


def _connection_reason(err: requests.ConnectionError, limits: Limits) -> str:
    """Say why a connection failed; a read timeout inside the body is reported as one."""
    text = str(err)
    if "timed out" in text.lower():
        return f"timed out (no data within {limits.timeout:g} s)"
    return f"cannot connect: {text[:200]}"
