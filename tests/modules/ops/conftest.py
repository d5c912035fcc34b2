"""Fixtures of the preflight tests (tests/modules/ops/test_preflight_*.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.modules.ops.preflight_support import (
    CLASSIC,
    FINE,
    REGION,
    AwsFakes,
    Setup,
    healthy_config,
    healthy_world,
    seed_healthy_account,
)
from tests.support.fake_github import FakeGitHub, running_fake_github
from tests.support.moto_server import MotoServer, moto_server_fixture

moto_module = moto_server_fixture(scope="module", region=REGION)


@pytest.fixture(scope="module")
def fake_github() -> Iterator[FakeGitHub]:
    with running_fake_github() as gh:
        yield gh


@pytest.fixture
def setup(moto_module: MotoServer, fake_github: FakeGitHub) -> Iterator[Setup]:
    seed_healthy_account(moto_module)
    fake_github.reset()
    fake_github.world = healthy_world()
    yield Setup(
        gh=fake_github,
        fakes=AwsFakes(moto=moto_module),
        config=healthy_config(),
        environ={
            "GITHUB_TOKEN": CLASSIC,
            "TF_VAR_github_owner_token_acme_risk": FINE,
            "TF_VAR_github_token": "trigger-token-not-checked",
        },
    )
    # every request preflight sent and every answer it got, against GitHub's description
    errors = fake_github.conformance_errors()
    assert errors == [], "\n".join(errors)
