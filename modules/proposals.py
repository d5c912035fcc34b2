"""The pull requests a config proposes outside Terraform state (top-level wiring).

``collect_proposals(config)`` builds the same construct tree synth builds (nothing is written)
and returns every ``RepositoryFiles.proposals`` in construct order, so ``make propose`` opens
exactly what the stacks describe: the starter code of projects with ``seed_code`` on, and the
workflows of branches with ``workflows_via_pull_request``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from modules.core.config import ToolkitConfig
from modules.core.proposals import Proposal


def collect_proposals(config: ToolkitConfig) -> dict[str, tuple[Proposal, ...]]:
    """Stack name -> the proposals of its projects (in construct order)."""
    from modules.app import build_app  # noqa: PLC0415 - cdktf loads only here
    from modules.artifacts import build_artifacts  # noqa: PLC0415
    from modules.github.repository_files import RepositoryFiles  # noqa: PLC0415
    from modules.render.seed_files import seed_files  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="proposals-") as tmp:
        app = build_app(
            config,
            artifacts=build_artifacts(config),
            seed_files=seed_files(),
            outdir=Path(tmp),
        )
        found: dict[str, tuple[Proposal, ...]] = {}
        for env in config.environments:
            stack = app.node.find_child(env.stack_name)
            found[env.stack_name] = tuple(
                proposal
                for node in stack.node.find_all()
                if isinstance(node, RepositoryFiles)
                for proposal in node.proposals
            )
    return found


def main(argv: list[str] | None = None) -> int:
    """``make propose``: open the proposals of the config (see ``modules/ops/propose.py``)."""
    import argparse  # noqa: PLC0415
    import os  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from modules.core.config import DEFAULT_CONFIG_PATH, ConfigError, load_config  # noqa: PLC0415
    from modules.ops.propose import DEFAULT_API_URL, propose_all  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="python -m modules.proposals",
        description="Open the starter-code (and protected-branch workflow) pull requests once.",
    )
    parser.add_argument("--config", default=str(DEFAULT_CONFIG_PATH))
    parser.add_argument("--stack", action="append", dest="stacks", metavar="NAME")
    parser.add_argument(
        "--github-api-url", default=os.environ.get("MLOPS_GITHUB_API_URL") or DEFAULT_API_URL
    )
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    known = {env.stack_name for env in config.environments}
    unknown = sorted(set(args.stacks or ()) - known)
    if unknown:
        print(f"error: --stack {unknown[0]}: not in {args.config} ({', '.join(sorted(known))})")
        return 2
    # cdktf loads only for a valid config, after the runtime is prepared (modules/runtime.py)
    from modules import runtime  # noqa: PLC0415

    runtime.prepare()
    selected = tuple(
        p
        for name, found in collect_proposals(config).items()
        if not args.stacks or name in args.stacks
        for p in found
    )
    try:
        outcomes, errors = propose_all(selected, args.github_api_url)
    except ValueError as error:
        print(f"error: --github-api-url: {error}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        p = outcome.proposal
        print(f"{p.full_name} {p.kind} ({p.head} -> {p.base}): {outcome.status}, {outcome.detail}")
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if not selected:
        print("nothing to propose (no project has seed_code or workflows_via_pull_request)")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
