"""Every YAML block in README.md, CONTRIBUTING.md and docs/ works as printed.

The minimal config is minimal.

The blocks are extracted here from the Markdown itself, so an edit to the docs cannot break
an example silently. Each block is one of:

* a whole config (top-level ``environments``): validated by ``parse_config`` and the JSON Schema;
* an environment fragment (top-level ``backend``, ``platform``, ``projects`` or ``tags``): put
  into the README's minimal config's environment, then validated the same way;
* a GitHub Actions workflow (``jobs``): validated against the GitHub workflow schema that
  check-jsonschema vendors (offline).

A block that is none of these fails the test, so a new kind of example needs a rule here.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import check_jsonschema
import jsonschema
import pytest
import yaml

from modules.core.config import ConfigError, parse_config
from modules.core.config.schema import config_schema
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```yaml[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
ENVIRONMENT_KEYS = {"backend", "platform", "projects", "tags"}
WORKFLOW_SCHEMA = (
    Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "github-workflows.json"
)


def yaml_blocks(text: str) -> list[str]:
    return [m.group(1) for m in FENCE.finditer(text)]


def all_blocks() -> Iterator[tuple[str, str]]:
    for doc in DOCS:
        for i, block in enumerate(yaml_blocks(doc.read_text(encoding="utf-8"))):
            yield f"{doc.relative_to(ROOT)}#{i}", block


def minimal_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### A minimal config", 1)[1].split("\n## ", 1)[0]
    blocks = yaml_blocks(section)
    assert len(blocks) == 1, "the 'A minimal config' section holds exactly one YAML block"
    return blocks[0]


def validate_config(data: Any, source: str) -> None:
    parse_config(data, source)
    jsonschema.Draft202012Validator(config_schema()).validate(data)


def test_the_extractor_finds_the_blocks() -> None:
    text = "a\n```yaml\nx: 1\n```\n```bash\nls\n```\n```yaml title\ny: [2]\n```\n"
    assert yaml_blocks(text) == ["x: 1\n", "y: [2]\n"]
    found = dict(all_blocks())
    assert any(name.startswith("README.md#") for name in found)
    assert any(name.startswith("docs/terraform-cloud.md#") for name in found)


@pytest.mark.parametrize(("name", "block"), list(all_blocks()), ids=lambda v: str(v)[:40])
def test_every_yaml_block_is_valid(name: str, block: str) -> None:
    data = yaml.safe_load(block)
    assert isinstance(data, dict), f"{name}: a YAML block is a mapping"
    if "environments" in data:
        validate_config(data, name)
    elif set(data) <= ENVIRONMENT_KEYS:
        config = yaml.safe_load(minimal_block())
        config["environments"][0].update(copy.deepcopy(data))
        validate_config(config, name)
    elif "jobs" in data:
        # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads YAML 1.2, where it is "on".
        if True in data:
            data["on"] = data.pop(True)
        schema = json.loads(WORKFLOW_SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft7Validator(schema).validate(data)
    else:
        pytest.fail(f"{name}: a YAML block of an unknown kind (keys {sorted(data)}); add a rule")


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _without(data: Any, path: tuple[Any, ...]) -> Any:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return out


def test_the_minimal_config_is_valid_and_minimal() -> None:
    """Valid as printed, and removing any key or list item makes it invalid."""
    data = yaml.safe_load(minimal_block())
    validate_config(data, "README minimal config")
    paths = list(_paths(data))
    assert len(paths) >= 10
    for path in paths:
        with pytest.raises(ConfigError):
            parse_config(_without(data, path), "minimal")


def test_fails_when_a_doc_block_is_broken() -> None:
    """The checks above reject a broken example (a misspelt key; a bad workflow)."""
    data = yaml.safe_load(minimal_block())
    data["environments"][0]["projects"][0]["githb"] = data["environments"][0]["projects"][0].pop(
        "github"
    )
    with pytest.raises(ConfigError, match="githb: unknown key"):
        validate_config(data, "broken")
    schema = json.loads(WORKFLOW_SCHEMA.read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate({"on": "push", "jobs": {"x": {"steps": 1}}})
