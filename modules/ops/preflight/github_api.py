"""GET-only access to the GitHub REST API for preflight.

The HTTP client is urllib3, which ``requirements.txt`` installs already (botocore is built on
it): every request is sent with ``redirect=False`` and ``retries=False``, so an answer is the
answer of the URL asked, and the token goes only to the configured API origin. GitHub facts
used here (docs.github.com/en/rest):

* a renamed or transferred repository answers ``301 Moved Permanently`` with a ``Location``
  (``/repositories/{id}``), a renamed branch ``301`` with the new branch's URL ("Repository
  redirects"; get-repository and get-branch document the 301);
* primary rate limit: 403 or 429 with ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``
  (epoch seconds); secondary rate limit: 403 or 429 with ``retry-after`` (seconds) or a message
  naming the secondary rate limit ("Rate limits for the REST API");
* an organization with SAML SSO answers 403 with ``X-GitHub-SSO: required; url=...`` to a token
  not authorized for it ("Authenticating to the REST API": SAML SSO);
* a fine-grained or App token without a permission gets 403 naming it in
  ``X-Accepted-GitHub-Permissions`` ("Troubleshooting the REST API");
* lists are paginated: ``per_page`` up to 100 and a ``Link`` header with ``rel="next"``
  ("Using pagination in the REST API").
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import urllib3

DEFAULT_GITHUB_API = "https://api.github.com"
GITHUB_TIMEOUT_SECONDS = 10.0
#: Pages of a list followed at most (100 items each).
MAX_PAGES = 10
REDIRECTS = (301, 302, 303, 307, 308)


class ApiUrlError(ValueError):
    """``--github-api-url`` is not an https URL of an API root (the message never echoes
    credentials)."""


class GitHubUnreachableError(RuntimeError):
    """The GitHub API could not be reached (network error or timeout)."""


class GitHubDeniedError(RuntimeError):
    """GitHub refused every further request of this token for now (rate limit, SAML SSO)."""

    def __init__(self, check: str, detail: str, fix: str) -> None:
        super().__init__(detail)
        self.check = check
        self.detail = detail
        self.fix = fix


def checked_api_url(raw: str) -> str:
    """The API root without a trailing slash: https only (http for loopback hosts, e.g. a local
    test server), no ``user:password@``, no query or fragment."""
    try:
        parts = urlsplit(raw.strip())
    except ValueError as e:
        raise ApiUrlError("--github-api-url is not a URL") from e
    if "@" in parts.netloc:
        raise ApiUrlError(
            "--github-api-url must not carry credentials (user:password@host): preflight sends "
            "the token from GITHUB_TOKEN / TF_VAR_github_owner_token_<owner>"
        )
    try:
        port = parts.port
    except ValueError as e:
        raise ApiUrlError(f"--github-api-url is not a URL ({e})") from e
    host = parts.hostname or ""
    shown = f"{parts.scheme}://{host}" if host else "that value"
    if parts.scheme not in ("https", "http") or not host:
        raise ApiUrlError(
            f"--github-api-url must be https://HOST (GitHub Enterprise Server: "
            f"https://HOST/api/v3), not {parts.scheme or 'a relative'} URL {shown}"
        )
    if parts.scheme == "http" and not _loopback(host):
        raise ApiUrlError(
            f"--github-api-url {shown} is plain http: the token would cross the network "
            "unencrypted; use https (http is accepted for loopback hosts only)"
        )
    if parts.query or parts.fragment:
        raise ApiUrlError(f"--github-api-url {shown}: an API root has no query or fragment")
    netloc = host if port is None else f"{host}:{port}"
    if ":" in host:
        netloc = f"[{host}]" if port is None else f"[{host}]:{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class GitHubResponse:
    status: int
    headers: Mapping[str, str]  # lowercased names
    body: Any

    @property
    def message(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("message", ""))
        return ""

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def link(self, rel: str) -> str | None:
        """The URL of ``rel`` in the ``Link`` header (``<url>; rel="next", ...``)."""
        for part in self.headers.get("link", "").split(","):
            match = re.fullmatch(r'\s*<([^>]*)>\s*;\s*rel="([^"]*)"\s*', part)
            if match and rel in match.group(2).split():
                return match.group(1)
        return None


class GitHubClient:
    """GET-only access with one token: answers cached per URL, no redirect followed, and only
    URLs of the configured API origin ever requested (Link and Location targets included)."""

    def __init__(
        self,
        api_url: str,
        token: str,
        timeout_seconds: float = GITHUB_TIMEOUT_SECONDS,
    ) -> None:
        self._api_url = checked_api_url(api_url)
        root = urlsplit(self._api_url)
        self._origin = (root.scheme, root.hostname, root.port)
        self._root_path = root.path
        self._token = token
        self._timeout = urllib3.Timeout(total=timeout_seconds)
        self._pool = _pool_for(root.scheme, root.hostname or "")
        self._cache: dict[str, GitHubResponse] = {}

    def get(self, path: str) -> GitHubResponse:
        """``path`` below the API root, e.g. ``/repos/acme/churn``."""
        return self._fetch(self._api_url + path)

    def same_origin(self, url: str) -> str | None:
        """``url`` (absolute, or relative to the API root) if it is on the API's origin and
        below its root path; else ``None``: preflight never sends the token anywhere else."""
        target = urlsplit(urljoin(self._api_url + "/", url))
        if "@" in target.netloc or (target.scheme, target.hostname, target.port) != self._origin:
            return None
        if not target.path.startswith(self._root_path + "/"):
            return None
        return target.geturl()

    def get_url(self, url: str) -> GitHubResponse | None:
        """GET a URL GitHub handed out (Location, Link) if it is on the API origin."""
        target = self.same_origin(url)
        return None if target is None else self._fetch(target)

    def get_all(self, path: str) -> tuple[list[Any], GitHubResponse]:
        """Every item of a paginated list (``per_page=100``, following ``rel="next"`` up to
        ``MAX_PAGES`` pages), and the last page's response (its status says if it failed)."""
        answer = self.get(f"{path}{'&' if '?' in path else '?'}per_page=100")
        items: list[Any] = []
        for _ in range(MAX_PAGES):
            if answer.status != 200 or not isinstance(answer.body, list):
                return items, answer
            items.extend(answer.body)
            following = answer.link("next")
            page = self.get_url(following) if following else None
            if page is None:
                return items, answer
            answer = page
        return items, answer

    def _fetch(self, url: str) -> GitHubResponse:
        if url in self._cache:
            return self._cache[url]
        try:
            raw = self._pool.request(
                "GET",
                url,
                headers={
                    "Accept": "application/vnd.github+json",
                    "Authorization": f"Bearer {self._token}",
                    "X-GitHub-Api-Version": "2022-11-28",
                    "User-Agent": "sagemaker-github-mlops-preflight",
                },
                redirect=False,
                retries=False,
                timeout=self._timeout,
            )
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise GitHubUnreachableError(f"{self._api_url}: {type(e).__name__}") from e
        response = _response(raw.status, raw.headers.items(), raw.data)
        _raise_for_denial(response)
        self._cache[url] = response
        return response


def _pool_for(scheme: str, host: str) -> urllib3.PoolManager:
    """A direct pool, or a proxy pool when the environment names a proxy for ``host``
    (``HTTPS_PROXY``/``NO_PROXY``, as urllib reads them)."""
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        return urllib3.ProxyManager(proxy)
    return urllib3.PoolManager()


def _response(status: int, headers: Any, raw: bytes) -> GitHubResponse:
    try:
        body = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    return GitHubResponse(
        status=status, headers={str(k).lower(): str(v) for k, v in headers}, body=body
    )


def _raise_for_denial(response: GitHubResponse) -> None:
    """Rate limits and SAML SSO stop every further check of the token: raise them, naming
    when to retry or where to authorize the token."""
    if response.status not in (403, 429):
        return
    headers = response.headers
    message = response.message
    if headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "")
        raise GitHubDeniedError(
            "github.api.rate_limit",
            f"GitHub answered {response.status}: the token's rate limit is used up "
            f"(x-ratelimit-remaining 0, resets at epoch {reset or 'unknown'})",
            "wait for the reset, or use a token whose limit is not shared with busy jobs",
        )
    if "retry-after" in headers or response.status == 429 or "rate limit" in message.lower():
        wait = headers.get("retry-after", "")
        raise GitHubDeniedError(
            "github.api.rate_limit",
            f"GitHub answered {response.status}: secondary rate limit"
            + (f" (retry-after {wait} s)" if wait else ""),
            "wait and run make preflight again",
        )
    sso = headers.get("x-github-sso", "")
    if sso:
        url = re.search(r"url=(\S+)", sso)
        raise GitHubDeniedError(
            "github.token.sso",
            "the organization uses SAML single sign-on and the token is not authorized for it",
            f"authorize the token for the organization: {url.group(1)}"
            if url
            else "authorize the token for SSO (Settings > Developer settings > token > "
            "Configure SSO)",
        )
