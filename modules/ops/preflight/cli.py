"""``python -m modules.ops.preflight``: arguments, the run over the selected environments,
the printed report and the JSON document."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from modules.core.config import DEFAULT_CONFIG_PATH, ConfigError, Environment, load_config
from modules.ops.preflight.aws import aws_checks
from modules.ops.preflight.aws_common import ClientFactory, boto3_clients
from modules.ops.preflight.github import github_checks
from modules.ops.preflight.github_api import (
    DEFAULT_GITHUB_API,
    GITHUB_TIMEOUT_SECONDS,
    ApiUrlError,
    checked_api_url,
)
from modules.ops.preflight.report import Check, Collector, exit_code, render
from modules.ops.preflight.stages import AssumeRole, boto3_assume_role, stage_account_checks


def run(
    environments: Sequence[Environment],
    *,
    clients: ClientFactory,
    environ: Mapping[str, str],
    github_api_url: str,
    github_timeout_seconds: float = GITHUB_TIMEOUT_SECONDS,
    assume: AssumeRole | None = None,
) -> list[Check]:
    """``assume``: how to reach the stage accounts of promoted environments
    (``stages``). Default: they are not checked."""
    checks: list[Check] = []
    for env in environments:
        checks.extend(aws_checks(env, clients, environ))
        if assume is not None:
            out = Collector(env.name)
            for line in stage_account_checks(env, assume):
                out.add(*line)  # type: ignore[arg-type]
            checks.extend(out.checks)
        checks.extend(github_checks(env, github_api_url, environ, github_timeout_seconds))
    return checks


def _selected(
    source: str, environments: Sequence[Environment], names: Sequence[str] | None
) -> Iterator[Environment]:
    known = {e.name for e in environments}
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise ConfigError(
            source,
            [
                f"--stack {n}: no such environment; the config has {', '.join(sorted(known))}"
                for n in unknown
            ],
        )
    for env in environments:
        if not names or env.name in names:
            yield env


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: ClientFactory | None = None,
    assume: AssumeRole | None = None,
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m modules.ops.preflight",
        description="Read-only check of the AWS and GitHub prerequisites before the first apply.",
    )
    parser.add_argument("--config", default=os.environ.get("CONFIG") or str(DEFAULT_CONFIG_PATH))
    parser.add_argument("--stack", action="append", dest="stacks", metavar="NAME")
    parser.add_argument("--json", type=Path, dest="json_path", metavar="PATH")
    parser.add_argument(
        "--github-api-url",
        default=os.environ.get("MLOPS_GITHUB_API_URL") or DEFAULT_GITHUB_API,
        help="GitHub REST API root (GitHub Enterprise Server: https://HOST/api/v3)",
    )
    args = parser.parse_args(argv)
    try:
        api_url = checked_api_url(args.github_api_url)
        config = load_config(args.config)
        environments = list(_selected(str(args.config), config.environments, args.stacks))
    except (ConfigError, ApiUrlError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    checks = run(
        environments,
        clients=clients or boto3_clients(),
        environ=os.environ,
        github_api_url=api_url,
        # stage accounts: the plan's credentials assume each stage deployer role (injected
        # clients without ``assume`` leave them out)
        assume=assume or (boto3_assume_role() if clients is None else None),
    )
    print(render(checks))
    if args.json_path is not None:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        document = {"exit_code": exit_code(checks), "checks": [asdict(c) for c in checks]}
        args.json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return exit_code(checks)
