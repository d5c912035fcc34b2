"""The README is a front page, and every relative link in the docs leads somewhere.

A link to a file that was moved or never written, or to a heading that was renamed, is a dead
end for a reader; GitHub renders it without complaint, so this test is the only guard.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)


def anchor(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation but '-' and '_' dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {anchor(h) for h in HEADING.findall(text)}


def relative_links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


def test_anchor_follows_github() -> None:
    assert anchor("Before you start") == "before-you-start"
    assert anchor("GitHub credentials, per owner") == "github-credentials-per-owner"
    assert anchor("The trigger function's token (`TF_VAR_github_token`)") == (
        "the-trigger-functions-token-tf_var_github_token"
    )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    broken = []
    for target in relative_links(doc):
        file_part, _, fragment = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target}: no heading '#{fragment}' in {dest.name}")
    assert broken == []


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    doc = tmp_path / "a.md"
    doc.write_text("# Top\n[ok](#top) [gone](b.md) [bad](#nowhere)\n", encoding="utf-8")
    assert relative_links(doc) == ["#top", "b.md", "#nowhere"]
    assert anchors(doc) == {"top"}


def test_the_readme_is_a_front_page() -> None:
    """Reference material lives in docs/, contributor material in CONTRIBUTING.md."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines < 400, f"README.md has {lines} lines; move reference material to docs/"
