"""Issue 27 item 8: a new template version deactivates the previous one instead of deleting it.

Facts from hashicorp/aws 5.100.0, internal/service/servicecatalog/provisioning_artifact.go:
``template_url`` and ``type`` are ``ForceNew`` (lines 103, 112); ``name`` and ``description``
are Optional + Computed (lines 61-65, 78-82); ``active`` and ``guidance`` are changed in place by
UpdateProvisioningArtifact (line 232); delete calls DeleteProvisioningArtifact (line 306). So one
resource whose template changes is *replaced*, which deletes the artifact existing projects were
built from, even with ``create_before_destroy``. Each version is therefore its own resource
(``version-<sha256[:16]>``); a listed earlier version keeps its resource, deactivated.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modules.core.config import ConfigError, parse_config
from modules.ops.terraform import offline_env, run_terraform
from tests.conftest import ROOT, Synth, resources

ARTIFACT = "aws_servicecatalog_provisioning_artifact"
LEGACY = f"{ARTIFACT}.project-template_current-version_ED90A795"
OLD_A = hashlib.sha256(b"an earlier template").hexdigest()
OLD_B = hashlib.sha256(b"an even earlier template").hexdigest()


def _current(stack: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (key, artifact) = next((k, a) for k, a in resources(stack, ARTIFACT).items() if a["active"])
    return key, artifact


def _digest(artifact: dict[str, Any]) -> str:
    match = re.fullmatch(r"Template sha256 ([0-9a-f]{64})", artifact["description"])
    assert match, artifact["description"]
    return match.group(1)


def _resolved_url(stack: dict[str, Any], url: str) -> str:
    """``url`` with the template object's key reference replaced by the key it holds."""
    objects = resources(stack, "aws_s3_object")
    return re.sub(
        r"\$\{aws_s3_object\.([^.]+)\.key\}", lambda m: str(objects[m.group(1)]["key"]), url
    )


def test_default_one_active_version_addressed_by_its_template(example_synth: Synth) -> None:
    for name in example_synth.stack_names():
        stack = example_synth.stack(name)
        (key, artifact) = _current(stack)
        assert len(resources(stack, ARTIFACT)) == 1
        digest = _digest(artifact)
        assert key.startswith(f"project-template_version-{digest[:16]}_")
        assert (artifact["guidance"], artifact["active"]) == ("DEFAULT", True)
        assert _resolved_url(stack, artifact["template_url"]).endswith(
            f"}}/templates/build-deploy-github/{digest[:16]}.json"
        )
        assert stack["output"]["product-template-sha256"]["value"] == digest
        # the address earlier releases used moves onto the current version: no change
        assert stack["moved"] == [{"from": LEGACY, "to": f"{ARTIFACT}.{key}"}]
        # SageMaker projects are created from the current version
        for project in resources(stack, "aws_sagemaker_project").values():
            assert project["service_catalog_provisioning_details"]["provisioning_artifact_id"] == (
                f"${{{ARTIFACT}.{key}.provisioning_artifact_id}}"
            )


def test_retained_versions_stay_deactivated_and_deprecated(
    example: dict[str, Any], synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    example["environments"][0]["platform"]["product"] = {"retained_versions": [OLD_A, OLD_B]}
    dev = synth_config(example).stack("dev")
    artifacts = resources(dev, ARTIFACT)
    assert len(artifacts) == 3
    (current_key, current) = _current(dev)
    bucket_domain = _resolved_url(dev, current["template_url"]).split("/templates/")[0]
    for digest in (OLD_A, OLD_B):
        (_key, old) = next(
            (k, a)
            for k, a in artifacts.items()
            if k.startswith(f"project-template_version-{digest[:16]}_")
        )
        assert (old["active"], old["guidance"]) == (False, "DEPRECATED")
        # what the version was created with (ForceNew), so refresh plans no replacement
        assert (
            old["template_url"]
            == f"{bucket_domain}/templates/build-deploy-github/{digest[:16]}.json"
        )
        assert old["type"] == "CLOUD_FORMATION_TEMPLATE"
        assert old["disable_template_validation"] is False
        assert old["product_id"] == current["product_id"]
        # name and description are AWS's (Optional + Computed): no diff when left out
        assert "name" not in old and "description" not in old
        assert "lifecycle" not in old
    # the artifact earlier releases kept at "current-version" is the first retained version
    (moved,) = dev["moved"]
    assert moved["from"] == LEGACY
    assert moved["to"].startswith(f"{ARTIFACT}.project-template_version-{OLD_A[:16]}_")
    assert current_key.startswith("project-template_version-")
    # other stacks keep none
    assert len(resources(synth_config(example).stack("prod"), ARTIFACT)) == 1


def test_listing_the_current_template_adds_nothing(
    example: dict[str, Any], example_synth: Synth, synth_config: Callable[[dict[str, Any]], Synth]
) -> None:
    current = _digest(_current(example_synth.stack("dev"))[1])
    example["environments"][0]["platform"]["product"] = {"retained_versions": [current]}
    dev = synth_config(example).stack("dev")
    assert json.dumps(resources(dev, ARTIFACT), sort_keys=True) == json.dumps(
        resources(example_synth.stack("dev"), ARTIFACT), sort_keys=True
    )


def test_the_legacy_address_is_cdktfs_id_of_the_old_path() -> None:
    """cdktf 0.21 names a resource ``<path components joined by _>_<md5 of the path joined by
    /, first 8 hex, upper case>``: the released address of project-template/current-version
    (CHANGELOG, [Unreleased] > Changed) is what the moved block names."""
    path = "project-template/current-version"
    digest = hashlib.md5(path.encode(), usedforsecurity=False).hexdigest()[:8].upper()
    assert f"{ARTIFACT}.{path.replace('/', '_')}_{digest}" == LEGACY
    assert LEGACY in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["abc"], "'abc' is not a template sha256"),
        ([OLD_A.upper()], "is not a template sha256"),
        ([OLD_A, OLD_A], "a template sha256 is listed twice"),
    ],
)
def test_fails_on_bad_retained_versions(
    example: dict[str, Any], value: list[str], expected: str
) -> None:
    example["environments"][0]["platform"]["product"] = {"retained_versions": value}
    with pytest.raises(ConfigError) as info:
        parse_config(example, "test.yaml")
    (problem,) = info.value.problems
    assert problem.startswith("environments[0].platform.product.retained_versions")
    assert expected in problem


def test_fails_on_too_many_retained_versions(example: dict[str, Any]) -> None:
    many = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(21)]
    example["environments"][0]["platform"]["product"] = {"retained_versions": many}
    with pytest.raises(ConfigError) as info:
        parse_config(example, "test.yaml")
    (problem,) = info.value.problems
    assert problem.startswith("environments[0].platform.product.retained_versions")


@pytest.mark.slow
def test_the_installed_provider_schema_agrees(tmp_path: Path) -> None:
    """What the retained versions rely on, read from hashicorp/aws 5.100.0 itself (the offline
    mirror, ``terraform providers schema -json``): ``name`` and ``description`` are Optional and
    Computed (left out, they plan no change), ``type`` and ``template_url`` are not Computed (so
    they are given), and ``active`` / ``guidance`` are arguments."""
    env, mirror = offline_env(tmp_path)
    if mirror is None:
        pytest.skip("no provider mirror with hashicorp/aws 5.100.0 on this machine")
    (tmp_path / "main.tf.json").write_text(
        json.dumps(
            {
                "terraform": {
                    "required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}
                }
            }
        ),
        encoding="utf-8",
    )
    init = run_terraform(["init", "-backend=false", "-input=false"], cwd=tmp_path, env=env)
    assert init.returncode == 0, init.stderr
    shown = run_terraform(["providers", "schema", "-json"], cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    schemas = json.loads(shown.stdout)["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    attributes = schemas["resource_schemas"][ARTIFACT]["block"]["attributes"]
    for name in ("name", "description"):
        assert attributes[name].get("optional") and attributes[name].get("computed"), name
    for name in ("type", "template_url", "active", "guidance", "disable_template_validation"):
        assert attributes[name].get("optional") and not attributes[name].get("computed"), name


def test_every_object_waits_for_its_buckets_versioning(example_synth: Synth) -> None:
    """An object put before its bucket's versioning is enabled gets the "null" version and no
    version_id in the state; hashicorp/aws then deletes it without a version id (object.go,
    resourceObjectDelete), which leaves a delete marker, and the bucket cannot be deleted. So
    every object of every stack depends on the versioning of the very bucket it is written to
    (the moto e2e destroy failed on this, depending on which of the two was created first)."""
    checked = 0
    for name in example_synth.stack_names():
        stack = example_synth.stack(name)
        versioning = {
            body["bucket"]: f"aws_s3_bucket_versioning.{address}"
            for address, body in resources(stack, "aws_s3_bucket_versioning").items()
        }
        for address, body in resources(stack, "aws_s3_object").items():
            assert body["bucket"] in versioning, (name, address, body["bucket"])
            assert versioning[body["bucket"]] in body.get("depends_on", []), (name, address)
            checked += 1
    assert checked >= len(example_synth.stack_names())
