"""cfn-lint, zizmor and the GitHub workflow schema on the files the stacks actually ship.

tests/modules/render/test_product_template.py and tests/modules/render/test_workflows.py lint
what the renderers produce from test props, and prove each tool fails on a broken input. These tests
take the CloudFormation templates (``aws_s3_object`` contents) and the workflow files
(``github_repository_file`` contents) out of the synthesized example stacks, undo Terraform's
``$${`` / ``%%{`` escapes, and run the same tools on them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tests.conftest import Synth

_INTERPOLATION = re.compile(r"(?<![$%])[$%]\{[^}]*\}")


def terraform_literal(text: str) -> str:
    """The text Terraform writes for a string argument: escapes undone; an interpolation
    (a value known only at apply) becomes a fixed placeholder so the text still parses."""
    text = _INTERPOLATION.sub("tfvalue", text)
    return text.replace("$${", "${").replace("%%{", "%{")


def templates(stack: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, obj in stack.get("resource", {}).get("aws_s3_object", {}).items():
        content = terraform_literal(obj.get("content", ""))
        try:
            doc = json.loads(content)
        except json.JSONDecodeError:
            continue
        if isinstance(doc, dict) and "AWSTemplateFormatVersion" in doc:
            out[name] = content
    return out


def workflows(stack: dict[str, Any]) -> dict[str, str]:
    return {
        f"{f['repository']}-{Path(f['file']).name}": terraform_literal(f["content"])
        for f in stack.get("resource", {}).get("github_repository_file", {}).values()
        if f["file"].startswith(".github/workflows/")
    }


def _region(stack: dict[str, Any]) -> str:
    providers = stack["provider"]["aws"]
    return str((providers[0] if isinstance(providers, list) else providers)["region"])


def _cfn_findings(text: str, region: str) -> list[str]:
    matches = lint(text, config=ManualArgs(regions=[region], include_checks=["I"]))
    return [f"{m.rule.id} {m.message}" for m in matches]


def test_terraform_literal_undoes_escapes_and_replaces_interpolations() -> None:
    text = "a: $${{ vars.X }} b: ${aws_s3_bucket.b.id} c: %%{ if } d: $${AWS::Region}"
    assert terraform_literal(text) == "a: ${{ vars.X }} b: tfvalue c: %{ if } d: ${AWS::Region}"


def test_cfn_lint_reports_nothing_on_shipped_templates(example_synth: Synth) -> None:
    seen = 0
    for name in example_synth.stack_names():
        stack = example_synth.stack(name)
        found = templates(stack)
        if stack["resource"].get("aws_servicecatalog_provisioning_artifact"):
            assert found, f"{name}: a provisioning artifact but no template found to lint"
        for key, text in found.items():
            assert _cfn_findings(text, _region(stack)) == [], f"{name}/{key}"
            seen += 1
    assert seen > 0


def test_cfn_lint_sees_a_broken_shipped_template(example_synth: Synth) -> None:
    stack = example_synth.stack("dev")
    text = next(iter(templates(stack).values()))
    doc = json.loads(text)
    doc["Resources"]["Broken"] = {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}
    assert _cfn_findings(json.dumps(doc), _region(stack))


@pytest.fixture(scope="module")
def shipped_workflows(example_synth: Synth, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("shipped") / ".github" / "workflows"
    root.mkdir(parents=True)
    paths = []
    for name in example_synth.stack_names():
        for key, text in workflows(example_synth.stack(name)).items():
            path = root / f"{name}-{key}"
            path.write_text(text, encoding="utf-8", newline="\n")
            paths.append(path)
    assert paths, "the example stacks ship no workflow file"
    return paths


def _tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: make install-dev")
    return str(path)


def test_zizmor_finds_nothing_in_shipped_workflows(shipped_workflows: list[Path]) -> None:
    result = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--no-config",
            "--no-progress",
            "--format",
            "json",
            "--min-severity",
            "medium",
            *map(str, shipped_workflows),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert json.loads(result.stdout) == [], result.stderr
    assert result.returncode == 0


def test_shipped_workflows_match_the_github_workflow_schema(
    shipped_workflows: list[Path],
) -> None:
    result = subprocess.run(
        [
            _tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, shipped_workflows),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout
