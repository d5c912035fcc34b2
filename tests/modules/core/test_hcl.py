"""Literal file contents survive Terraform's string templates."""

from __future__ import annotations

import re

import pytest

from modules.core.hcl import NotLiteralError, literal
from tests.conftest import Synth, resources


def test_literal_escapes_interpolation_and_directives() -> None:
    assert literal("a ${{ vars.X }} b ${AWS::Region} %{ if } $x %") == (
        "a $${{ vars.X }} b $${AWS::Region} %%{ if } $x %"
    )


def test_no_unescaped_template_sequence_in_literal_contents(example_synth: Synth) -> None:
    stack = example_synth.stack("dev")
    contents = [f["content"] for f in resources(stack, "github_repository_file").values()]
    contents += [o["content"] for o in resources(stack, "aws_s3_object").values()]
    assert any("$${{" in c for c in contents)  # workflows carry GitHub expressions
    for content in contents:
        assert not re.search(r"(?<!\$)\$\{", content), "Terraform would interpolate this"
        assert not re.search(r"(?<!%)%\{", content)


def test_text_with_the_token_marker_is_refused_and_shown_cut_to_80_characters() -> None:
    text = "a" * 90 + "{TfToken[TOKEN.1]}"
    with pytest.raises(NotLiteralError) as e:
        literal(text)
    assert str(e.value) == (
        "'" + "a" * 80 + "' holds '{TfToken[', CDKTF's token marker; it would be replaced by a "
        "reference, so it cannot be written literally"
    )
