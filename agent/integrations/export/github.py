"""Export tasks as GitHub issues through the REST API (httpx), idempotently.

The token comes from GITHUB_TOKEN or GH_TOKEN only and never appears in output: every message that could
carry server text passes through :func:`redact`, and so does every string of every answer (a server may
echo the token in an issue's ``html_url``) before it is printed or recorded. The token goes only to the
API's own scheme, host and port. The API base is GITHUB_API_URL (GitHub Enterprise).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agent.errors import ConfigError, ExportError, InputError
from agent.integrations.export.formats import issue_body, issue_title, label_for
from agent.integrations.export.identity import marked_task, spec_identity
from agent.integrations.export.records import read_records, record_issue
from agent.integrations.export.tasks import Task
from agent.io.redact import display_url
from agent.io.redact import redact as redact_secrets
from agent.specdoc.document import load_spec

DEFAULT_API = "https://api.github.com"
MAX_RATE_WAIT = 60.0
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_REMOTE = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)([^/]+/[^/]+?)(?:\.git)?/?$"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def token_from_env() -> str | None:
    return os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None


def redact(text: str, token: str | None) -> str:
    """``text`` without the token in use (whatever its shape), then through the one redaction."""
    return redact_secrets(text.replace(token, "***") if token else text)


def redact_answer(data: Any, token: str | None) -> Any:
    """A decoded answer with the token (and any other secret) redacted from every string in it."""
    if isinstance(data, str):
        return redact(data, token)
    if isinstance(data, list):
        return [redact_answer(item, token) for item in data]
    if isinstance(data, dict):
        return {key: redact_answer(value, token) for key, value in data.items()}
    return data


def same_origin(url: str, api: str) -> bool:
    """``url`` is on the API's scheme, host and port exactly, under its path (a next-page link the
    token may follow): a string prefix would let ``http://127.0.0.1:47012`` pass for ``:4701``."""
    try:
        there, here = httpx.URL(url), httpx.URL(api)
    except (httpx.InvalidURL, TypeError):
        return False

    def origin(u: httpx.URL) -> tuple[str, str, int | None]:
        return (u.scheme, u.host, u.port or _DEFAULT_PORTS.get(u.scheme))

    base = here.path.rstrip("/") + "/"
    return origin(there) == origin(here) and not there.userinfo and there.path.startswith(base)


def repo_from_remote(cwd: Path) -> str:
    try:
        url = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        raise InputError(
            "No --repo given and no 'origin' git remote found.",
            hint="Name the repository with --repo owner/name.",
        ) from None
    match = _REMOTE.match(url)
    if not match:
        raise InputError(
            f"The origin remote '{display_url(url)}' is not a GitHub repository URL.",
            hint="Name the repository with --repo owner/name.",
        )
    return match.group(1)


def check_repo(repo: str) -> str:
    if not _REPO.match(repo) or any(part in (".", "..") for part in repo.split("/")):
        raise InputError(f"--repo '{repo}' is not of the form owner/name.")
    return repo


@dataclass
class GithubResult:
    repo: str
    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    planned: list[dict[str, Any]] = field(default_factory=list)


class GithubClient:
    def __init__(
        self,
        repo: str,
        token: str,
        *,
        api: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_RATE_WAIT,
    ) -> None:
        self.repo = check_repo(repo)
        self.token = token
        self.api = (api or os.environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
        self._sleep = sleep
        self._max_wait = max_wait
        self._http = httpx.Client(
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "specdraft",
            },
            timeout=30.0,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for _attempt in range(3):
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                raise ExportError(
                    redact(f"Cannot reach the GitHub API at {display_url(self.api)}: {exc}", self.token)
                ) from None
            if response.status_code in (403, 429) and self._rate_limited(response):
                wait = self._wait_seconds(response)
                if wait is None or wait > self._max_wait:
                    raise ExportError(
                        "GitHub rate limit reached"
                        + (f"; it resets in {int(wait)} s" if wait is not None else "")
                        + ". Issues created so far are recorded.",
                        hint="Run the same export again later: it resumes without duplicates.",
                    )
                self._sleep(wait)
                continue
            if response.status_code == 401:
                raise ConfigError(
                    "GitHub refused the token (401 Unauthorized).",
                    hint="Set GITHUB_TOKEN or GH_TOKEN to a token with 'issues: write' on the repository.",
                )
            if response.status_code == 404:
                raise InputError(
                    f"Repository '{self.repo}' not found at {display_url(self.api)}, "
                    "or the token cannot see it."
                )
            if response.status_code >= 400:
                message = ""
                try:
                    message = str(response.json().get("message", ""))
                except ValueError:
                    message = response.text[:200]
                raise ExportError(
                    redact(
                        f"GitHub answered {response.status_code} to {method} {display_url(url)}: {message}",
                        self.token,
                    )
                )
            return response
        raise ExportError("GitHub kept answering with rate limits; try again later.")

    @staticmethod
    def _rate_limited(response: httpx.Response) -> bool:
        return (
            response.status_code == 429
            or "retry-after" in response.headers
            or response.headers.get("x-ratelimit-remaining") == "0"
        )

    @staticmethod
    def _wait_seconds(response: httpx.Response) -> float | None:
        if "retry-after" in response.headers:
            try:
                return max(0.0, float(response.headers["retry-after"]))
            except ValueError:
                return None
        reset = response.headers.get("x-ratelimit-reset")
        if reset and reset.isdigit():
            return max(0.0, float(reset) - time.time())
        return None

    def _json(self, response: httpx.Response) -> Any:
        """The answer decoded, the token redacted from it (nothing a server echoes is shown or kept)."""
        try:
            return redact_answer(response.json(), self.token)
        except ValueError:
            raise ExportError(
                f"GitHub at {display_url(self.api)} answered with something that is not JSON."
            ) from None

    def existing_task_issues(self, spec_id: str) -> dict[str, dict[str, Any]]:
        """Task ID -> issue for every issue (all states, all pages) whose body carries this spec's marker."""
        found: dict[str, dict[str, Any]] = {}
        url: str | None = f"{self.api}/repos/{self.repo}/issues"
        params: dict[str, Any] | None = {"state": "all", "per_page": 100}
        while url:
            response = self._request("GET", url, params=params)
            for issue in self._json(response):
                task_id = marked_task(issue.get("body"), spec_id) if isinstance(issue, dict) else None
                if task_id and "pull_request" not in issue:
                    found.setdefault(task_id, issue)
            next_link = response.links.get("next", {}).get("url")
            url = next_link if next_link and same_origin(next_link, self.api) else None
            params = None
        return found

    def milestone_number(self, title: str) -> int:
        response = self._request("GET", f"{self.api}/repos/{self.repo}/milestones", params={"state": "all"})
        for milestone in self._json(response):
            if milestone.get("title") == title:
                return int(milestone["number"])
        created = self._request("POST", f"{self.api}/repos/{self.repo}/milestones", json={"title": title})
        return int(self._json(created)["number"])

    def create_issue(self, payload: dict[str, Any]) -> dict[str, Any]:
        response = self._request("POST", f"{self.api}/repos/{self.repo}/issues", json=payload)
        data: dict[str, Any] = self._json(response)
        return data


def plan_payload(task: Task, *, spec_name: str, spec_id: str, milestones: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": issue_title(task),
        "body": issue_body(task, spec_name=spec_name, spec_id=spec_id),
    }
    if not milestones:
        payload["labels"] = [label_for(task.phase)]
    return payload


def export_to_github(
    spec: Path,
    tasks: list[Task],
    *,
    repo: str,
    dry_run: bool = False,
    milestones: bool = False,
    client: GithubClient | None = None,
    on_created: Callable[[str, dict[str, Any]], None] | None = None,
    spec_id: str | None = None,
) -> GithubResult:
    """One issue per task of ``spec`` not exported yet; ``spec_id`` (default: :func:`spec_identity`)
    is what marks an issue as this spec's."""
    result = GithubResult(repo=check_repo(repo))
    spec_id = spec_id or spec_identity(spec, load_spec(spec).front_matter)
    recorded: dict[str, Any] = read_records(spec).get(f"github:{repo}", {})
    for task in tasks:
        old = recorded.get(task.id)
        if old and old.get("sha256") != task.text_hash:
            result.changed.append(task.id)
    if dry_run:
        for task in tasks:
            if task.id in recorded:
                result.skipped[task.id] = str(recorded[task.id].get("url", "recorded"))
            else:
                result.planned.append(
                    plan_payload(task, spec_name=spec.name, spec_id=spec_id, milestones=milestones)
                )
        return result
    if client is None:
        token = token_from_env()
        if not token:
            raise ConfigError(
                "No GitHub token: set GITHUB_TOKEN or GH_TOKEN.",
                hint="Or preview with --dry-run (no token needed).",
            )
        client = GithubClient(repo, token)
    try:
        _create_issues(
            spec, spec_id, tasks, client, result, recorded, milestones=milestones, on_created=on_created
        )
    finally:
        client.close()
    return result


def _create_issues(
    spec: Path,
    spec_id: str,
    tasks: list[Task],
    client: GithubClient,
    result: GithubResult,
    recorded: dict[str, Any],
    *,
    milestones: bool,
    on_created: Callable[[str, dict[str, Any]], None] | None,
) -> None:
    """An issue for each task that has none yet: none recorded next to the spec, none on GitHub with
    this spec's marker (one found there but not recorded is recorded)."""
    repo = result.repo
    existing = client.existing_task_issues(spec_id)
    milestone_numbers: dict[str, int] = {}
    for task in tasks:
        if task.id in recorded:
            result.skipped[task.id] = str(recorded[task.id].get("url", "recorded"))
            continue
        if task.id in existing:
            issue = existing[task.id]
            entry = {"number": issue.get("number"), "url": issue.get("html_url"), "sha256": task.text_hash}
            result.skipped[task.id] = str(issue.get("html_url", issue.get("number")))
            record_issue(spec, f"github:{repo}", task.id, entry)
            continue
        payload = plan_payload(task, spec_name=spec.name, spec_id=spec_id, milestones=milestones)
        if milestones:
            if task.phase not in milestone_numbers:
                milestone_numbers[task.phase] = client.milestone_number(task.phase)
            payload["milestone"] = milestone_numbers[task.phase]
        issue = client.create_issue(payload)
        entry = {"number": issue.get("number"), "url": issue.get("html_url"), "sha256": task.text_hash}
        record_issue(spec, f"github:{repo}", task.id, entry)
        result.created[task.id] = entry
        if on_created:
            on_created(task.id, entry)
