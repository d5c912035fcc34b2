"""Resource addresses: no rename without a moved block or a changelog entry (gates/addresses)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, Synth
from tools.gates.addresses import (
    CHANGELOG,
    SNAPSHOT,
    check_addresses,
    moved_from,
    resource_addresses,
    snapshot_of,
    unreleased,
)

CHANGELOG_TEXT = """# Changelog

## [Unreleased]

### Changed
- aws_iam_role.project-a_build-role_11111111 is replaced: the role's name changed.

## [0.1.0] - 2026-01-01
- aws_s3_bucket.old_bucket_22222222 was fine back then.
"""


def stack(*addresses: str, moved: dict[str, str] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"resource": {}}
    for address in addresses:
        rtype, name = address.split(".", 1)
        doc["resource"].setdefault(rtype, {})[name] = {}
    if moved:
        doc["moved"] = [{"from": f, "to": t} for f, t in moved.items()]
    return doc


def test_addresses_and_moved_blocks_are_read_from_the_stack_json() -> None:
    doc = stack("aws_iam_role.a_1", "github_repository_file.b_2", moved={"aws_iam_role.x": "y"})
    doc["data"] = {"aws_iam_policy_document": {"d": {}}}
    assert resource_addresses(doc) == {"aws_iam_role.a_1", "github_repository_file.b_2"}
    assert moved_from(doc) == {"aws_iam_role.x"}


def test_only_the_unreleased_section_explains() -> None:
    section = unreleased(CHANGELOG_TEXT)
    assert "project-a_build-role_11111111" in section
    assert "old_bucket_22222222" not in section
    assert unreleased("# Changelog\n\n## [1.0.0]\n- x\n") == ""


def test_fails_when_an_address_disappears_unexplained() -> None:
    snapshot = {"dev": ["aws_iam_role.keep_1", "aws_sns_topic.gone_3"]}
    problems = check_addresses(snapshot, {"dev": stack("aws_iam_role.keep_1")}, CHANGELOG_TEXT)
    assert problems == [
        "stack dev: aws_sns_topic.gone_3 is gone, so the next plan destroys it (and creates its "
        "replacement); keep the construct id, add a moved block (resource.move_to/move_from_id), "
        "or name the address in CHANGELOG.md's '## [Unreleased]' section with why it is replaced"
    ]


def test_fails_when_a_whole_stack_disappears() -> None:
    problems = check_addresses({"prod": ["aws_iam_role.a_1"]}, {}, CHANGELOG_TEXT)
    assert len(problems) == 1 and problems[0].startswith("stack prod: aws_iam_role.a_1 is gone")


def test_fails_when_only_a_released_section_names_the_address() -> None:
    snapshot = {"dev": ["aws_s3_bucket.old_bucket_22222222"]}
    assert check_addresses(snapshot, {"dev": stack()}, CHANGELOG_TEXT) != []


def test_a_moved_block_or_the_changelog_explains_a_removal() -> None:
    snapshot = {"dev": ["aws_iam_role.project-a_build-role_11111111", "aws_sns_topic.old_4"]}
    current = stack("aws_sns_topic.new_5", moved={"aws_sns_topic.old_4": "aws_sns_topic.new_5"})
    assert check_addresses(snapshot, {"dev": current}, CHANGELOG_TEXT) == []


def test_added_addresses_are_fine() -> None:
    snapshot = {"dev": ["aws_iam_role.a_1"]}
    current = stack("aws_iam_role.a_1", "aws_iam_role.b_2")
    assert check_addresses(snapshot, {"dev": current}, "") == []


names = st.from_regex(r"[a-z]{1,3}_[0-9A-F]{2}", fullmatch=True)
address_sets = st.sets(st.builds(lambda n: f"aws_iam_role.{n}", names), max_size=8)


@settings(derandomize=True, max_examples=80, deadline=None)
@given(old=address_sets, new=address_sets, moved_share=st.integers(0, 8))
def test_property_every_unexplained_removal_is_reported(
    old: set[str], new: set[str], moved_share: int
) -> None:
    """Exactly the removed addresses without a moved block are reported, one line each."""
    removed = sorted(old - new)
    moved = {a: "aws_iam_role.target" for a in removed[:moved_share]}
    problems = check_addresses({"s": sorted(old)}, {"s": stack(*new, moved=moved)}, "")
    reported = {p.split(" ")[2] for p in problems}
    assert reported == set(removed[moved_share:])
    assert len(problems) == len(reported)


def test_example_addresses_match_the_snapshot(example_synth: Synth) -> None:
    """The guard on the real example stacks (regenerate with `make addresses`)."""
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    stacks = {name: example_synth.stack(name) for name in example_synth.stack_names()}
    assert set(snapshot) == set(stacks)
    problems = check_addresses(snapshot, stacks, CHANGELOG.read_text(encoding="utf-8"))
    assert problems == [], "\n".join(problems)
    assert sum(len(v) for v in snapshot_of(stacks).values()) >= 100


def test_snapshot_is_sorted_and_under_tests() -> None:
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert SNAPSHOT.is_relative_to(ROOT / "tests")
    for addresses in snapshot.values():
        assert addresses == sorted(addresses)
