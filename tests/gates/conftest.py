"""Fixtures of the gate tests: the pinned checkov and the example config's stacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.core.config import load_config
from modules.core.naming import PRODUCTION_STAGE, STAGING_STAGE, github_environment
from tests.conftest import EXAMPLE_CONFIG
from tools.gates.checkov_gate import ensure_checkov
from tools.gates.iam_policies import TrustedRepository


@pytest.fixture(scope="session")
def checkov() -> Path:
    """checkov from its own pinned virtualenv (installed on first use)."""
    return ensure_checkov()


def trusted_repositories(config_path: Path = EXAMPLE_CONFIG) -> dict[str, list[TrustedRepository]]:
    """Stack name -> the repositories (build branches, projects, deploy environments) its
    projects configure."""
    config = load_config(config_path)
    return {
        env.stack_name: [
            TrustedRepository(
                owner=p.github.owner,
                repository=p.github.repository,
                branch=p.github.branch,
                project=p.name,
                production_environment=github_environment(env.name, PRODUCTION_STAGE),
                staging_environment=github_environment(env.name, STAGING_STAGE)
                if p.staging_environment
                else None,
            )
            for p in env.projects
        ]
        for env in config.environments
    }
