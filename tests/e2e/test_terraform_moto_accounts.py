"""End to end: the AWS half of a three-account environment applied through the aliased providers.

The three-account config (tests/support/three_accounts.py, home switched to moto's default
account) is synthesized, its AWS half written with the moto override (every ``aws`` provider
block, the aliased ones included, pointed at moto_server on 127.0.0.1), then with the real
Terraform and hashicorp/aws 5.100.0 from the offline mirror:

1. ``apply``: the stage providers assume ``arn:aws:iam::<stage>:role/terraform-apply`` (moto's
   STS answers with credentials acting in that account, and the provider's
   ``allowed_account_ids`` check passes against moto's GetCallerIdentity);
2. boto3, in each account, proves each stage's OIDC provider and roles exist in that account
   only (not at home, not in the other stage);
3. a second plan is empty and ``plan -refresh-only`` finds no drift.

The per-account resource counts are printed (run with ``-s``).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from modules.ops.terraform import (
    aws_half,
    copy_stack,
    find_mirror,
    run_terraform,
    terraform_env,
    write_cli_config,
)
from tests.conftest import ROOT
from tests.e2e.moto_stack import (
    FAKE_TOKEN,
    MOTO_ACCOUNT_ID,
    OVERRIDE_FILE,
    literal_role_names,
    moto_override,
    supported_copy,
)
from tests.e2e.test_terraform_moto import synthesize
from tests.support.moto_server import MotoServer, running_moto_server
from tests.support.three_accounts import ENVIRONMENT, HOME, STAGE_ACCOUNTS, three_accounts

pytestmark = pytest.mark.slow


@dataclass(frozen=True, kw_only=True)
class Setup:
    synth: Path
    env: dict[str, str]
    moto: MotoServer
    region: str


def config_in_moto() -> dict[str, Any]:
    data = three_accounts()
    text = json.dumps(data).replace(HOME, MOTO_ACCOUNT_ID)
    data = json.loads(text)
    data["environments"][0]["backend"] = {"type": "local"}
    return dict(data)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("e2e-accounts")
    data = config_in_moto()
    config = base / "three.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
    synthesize(ROOT, config, base / "cdktf.out", None)
    mirror = find_mirror()
    cli_config = write_cli_config(mirror, base) if mirror is not None else None
    env = terraform_env(cli_config)
    env["TF_VAR_github_token"] = FAKE_TOKEN
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        env.pop(name, None)
    region = data["environments"][0]["region"]
    with running_moto_server(region=region) as moto:
        yield Setup(synth=base / "cdktf.out", env=env, moto=moto, region=region)


def session(setup: Setup, account: str) -> boto3.Session:
    """Credentials acting in ``account`` (moto: the default ones at home, AssumeRole else)."""
    base = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    if account == MOTO_ACCOUNT_ID:
        return boto3.Session(region_name=setup.region, **base)
    sts = boto3.client(
        "sts", endpoint_url=setup.moto.endpoint_url, region_name=setup.region, **base
    )
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/terraform-apply", RoleSessionName="e2e-check"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=setup.region,
    )


def iam(setup: Setup, account: str) -> Any:
    return session(setup, account).client("iam", endpoint_url=setup.moto.endpoint_url)


def override(document: dict[str, Any], endpoint_url: str) -> dict[str, Any]:
    """The moto override for every ``aws`` provider block (matched by alias)."""
    base = moto_override(endpoint_url)
    settings = base["provider"]["aws"]
    blocks = [dict(settings)]
    for provider in document["provider"]["aws"]:
        if provider.get("alias"):
            blocks.append({**settings, "alias": provider["alias"]})
    base["provider"] = {"aws": blocks}
    return base


def tf(setup: Setup, workdir: Path, *args: str) -> Any:
    return run_terraform(list(args), cwd=workdir, env=setup.env, timeout_seconds=900)


def providers_by_address(document: dict[str, Any]) -> dict[str, str]:
    """Managed resource address -> provider (``aws`` or ``aws.<stage>``)."""
    return {
        f"{rtype}.{name}": str(body.get("provider", "aws"))
        for rtype, items in document.get("resource", {}).items()
        for name, body in items.items()
    }


def test_three_accounts_apply_through_the_aliased_providers(setup: Setup, tmp_path: Path) -> None:
    stack_dir = setup.synth / "stacks" / ENVIRONMENT
    document = json.loads((stack_dir / "cdk.tf.json").read_text(encoding="utf-8"))
    half, exclusions = supported_copy(aws_half(document).document)
    workdir = tmp_path / "work"
    copy_stack(stack_dir, workdir, half, keep_state=True)
    (workdir / OVERRIDE_FILE).write_text(
        json.dumps(override(document, setup.moto.endpoint_url), indent=2), encoding="utf-8"
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "servicecatalog.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    for name in literal_role_names(half):
        iam(setup, MOTO_ACCOUNT_ID).create_role(
            RoleName=name, Path="/service-role/", AssumeRolePolicyDocument=json.dumps(trust)
        )

    init = tf(setup, workdir, "init", "-input=false")
    assert init.returncode == 0, init.stderr
    apply = tf(setup, workdir, "apply", "-input=false", "-auto-approve")
    assert apply.returncode == 0, apply.stdout[-3000:] + apply.stderr[-3000:]

    # per-account resource counts, from the state and the provider of each address
    listed = tf(setup, workdir, "state", "list")
    assert listed.returncode == 0, listed.stderr
    providers = providers_by_address(half)
    applied = [a for a in listed.stdout.split() if not a.startswith("data.")]
    counts = Counter(providers[a] for a in applied)
    labels = {"aws": f"home {MOTO_ACCOUNT_ID}"} | {
        f"aws.{stage}": f"{stage} {account}" for stage, account in STAGE_ACCOUNTS.items()
    }
    print("resources applied per account:")
    for provider in ("aws", *(f"aws.{s}" for s in STAGE_ACCOUNTS)):
        print(f"  {labels[provider]}: {counts[provider]}")
    print(f"  left out (moto cannot serve them): {len(exclusions)}")
    assert counts["aws.staging"] >= 5 and counts["aws.production"] > counts["aws.staging"]

    # every stage role and OIDC provider exists in its own account only
    accounts = [MOTO_ACCOUNT_ID, *STAGE_ACCOUNTS.values()]
    roles_of = {
        account: {
            r["RoleName"]: r["Path"]
            for r in iam(setup, account).list_roles(PathPrefix="/sagemaker-mlops/")["Roles"]
        }
        for account in accounts
    }
    oidc_of = {
        account: [
            p["Arn"]
            for p in iam(setup, account).list_open_id_connect_providers()[
                "OpenIDConnectProviderList"
            ]
        ]
        for account in accounts
    }
    assert roles_of[MOTO_ACCOUNT_ID] == {}
    for stage, account in STAGE_ACCOUNTS.items():
        assert oidc_of[account] == [
            f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
        ]
        paths = set(roles_of[account].values())
        assert paths == {
            f"/sagemaker-mlops/{ENVIRONMENT}/churn-model/{stage}/deploy/",
            f"/sagemaker-mlops/{ENVIRONMENT}/churn-model/{stage}/model/",
        }, (stage, roles_of[account])
        for other in set(accounts) - {account}:
            assert not set(roles_of[account]) & set(roles_of[other]), (stage, other)
        deploy = next(n for n, p in roles_of[account].items() if p.endswith("/deploy/"))
        role = iam(setup, account).get_role(RoleName=deploy)["Role"]
        assert role["Arn"].split(":")[4] == account
        assert role["MaxSessionDuration"] == 7200
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"]["Federated"] == oidc_of[account][0]
        assert (
            statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
            == f"repo:acme-ml/churn-model:environment:{ENVIRONMENT}-{stage}"
        )
    home_oidc = oidc_of[MOTO_ACCOUNT_ID]
    assert home_oidc == [
        f"arn:aws:iam::{MOTO_ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com"
    ]

    # steady state: a second plan is empty, and so is a refresh-only plan
    again = tf(setup, workdir, "plan", "-input=false", "-detailed-exitcode")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
    recorded = tf(setup, workdir, "apply", "-refresh-only", "-input=false", "-auto-approve")
    assert recorded.returncode == 0, recorded.stderr
    refresh = tf(setup, workdir, "plan", "-refresh-only", "-input=false", "-out=refresh.tfplan")
    assert refresh.returncode == 0, refresh.stderr
    shown = tf(setup, workdir, "show", "-json", "refresh.tfplan")
    drift = json.loads(shown.stdout).get("resource_drift", [])
    assert drift == [], [d["address"] for d in drift]
    assert re.search(r"No changes", refresh.stdout), refresh.stdout[-2000:]
