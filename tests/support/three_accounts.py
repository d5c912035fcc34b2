"""A three-account environment (home, staging, production) as config data, for the promotion
tests: one repository on ``main``, trained at home and deployed to two stage accounts."""

from __future__ import annotations

import copy
from typing import Any

HOME = "111111111111"
STAGING = "222222222222"
PRODUCTION = "333333333333"
REGION = "eu-west-1"
ENVIRONMENT = "ml"
STAGE_ACCOUNTS = {"staging": STAGING, "production": PRODUCTION}

_CONFIG: dict[str, Any] = {
    "environments": [
        {
            "name": ENVIRONMENT,
            "account_id": HOME,
            "region": REGION,
            "platform": {
                "auth_mode": "oidc",
                "studio_execution_role_arns": [f"arn:aws:iam::{HOME}:role/studio"],
                "deployer_principal_arn": f"arn:aws:iam::{HOME}:role/terraform-apply",
            },
            "promotion": {
                "staging": {
                    "account_id": STAGING,
                    "deployer_role_arn": f"arn:aws:iam::{STAGING}:role/terraform-apply",
                },
                "production": {
                    "account_id": PRODUCTION,
                    "deployer_role_arn": f"arn:aws:iam::{PRODUCTION}:role/terraform-apply",
                    "endpoint": {
                        "instance_type": "ml.c5.xlarge",
                        "instance_count": 2,
                        "autoscaling": {
                            "min_instances": 2,
                            "max_instances": 4,
                            "target_invocations_per_instance": 500,
                        },
                        "data_capture": {"sampling_percentage": 10},
                    },
                },
            },
            "projects": [
                {
                    "name": "churn-model",
                    "github": {"owner": "acme-ml", "repository": "churn-model", "branch": "main"},
                    "production_reviewers": {"teams": ["ml-leads"]},
                }
            ],
        }
    ]
}


def three_accounts() -> dict[str, Any]:
    """A fresh, mutable copy of the config."""
    return copy.deepcopy(_CONFIG)
