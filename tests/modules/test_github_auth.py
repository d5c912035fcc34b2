"""GitHub authentication per owner: a token variable per owner, or a GitHub App installation
(``app_auth``) for the owners listed in ``platform.github_app``. No credential is a literal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Synth, example_data


def test_app_owners_use_app_auth_and_the_others_tokens(
    synth_config: Callable[[dict[str, Any]], Synth],
) -> None:
    data = example_data()
    data["environments"][0]["platform"]["github_app"] = {
        "id": "123456",
        "installation_ids": {"acme-risk": "987654"},
    }
    dev = synth_config(data).stack("dev")
    providers = {p["owner"]: p for p in dev["provider"]["github"]}
    risk = providers["acme-risk"]
    # a single nested block: cdktf renders it as an object (Terraform JSON accepts both)
    assert risk["app_auth"] == {
        "id": "123456",
        "installation_id": "987654",
        "pem_file": "${var.github_app_pem}",
    }
    assert "token" not in risk
    assert providers["acme-ml"]["token"] == "${var.github_owner_token_acme_ml}"
    assert "app_auth" not in providers["acme-ml"]
    pem = dev["variable"]["github_app_pem"]
    assert pem["sensitive"] is True and pem["ephemeral"] is True
    assert pem["nullable"] is True and pem["default"] is None
    assert "GITHUB_APP_PEM_FILE" in pem["description"]
    # the App owner needs no token variable; nothing credential-like is a literal
    assert "github_owner_token_acme_risk" not in dev["variable"]
    assert "BEGIN" not in str(dev)
