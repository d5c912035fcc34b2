"""Nothing a config value holds is ever evaluated by Terraform (or swapped by CDKTF).

Property: for a hostile string put in every string field of the models (found at run time by
tests/support/config_fields.py, so fields added later are covered), either the config is
refused, or the synthesized JSON holds the value only as a literal: no ``${``/``%{`` that
Terraform would evaluate contains any text from the config, and no CDKTF token marker reaches
the synthesizer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from modules.core.config import ConfigError, ToolkitConfig, parse_config
from modules.core.hcl import literal
from tests.conftest import example_data
from tests.support.config_fields import BACKEND_BASES, StringSlot, string_slots

CANARY = "qzx"
# What an attacker or a careless user types: Terraform templates and directives, CDKTF's token
# markers, numbers in CDKTF's encoded-number shape, quotes, shell and YAML specials, control,
# zero-width and right-to-left characters, path tricks, and a long run.
FRAGMENTS = (
    "${",
    "%{",
    "}",
    "$${",
    "%%{",
    "$",
    "%",
    "{",
    '${file("/etc/hostname")}',
    '${file("/proc/self/environ")}',
    "%{ if true }x%{ endif }",
    "${var.github_token}",
    "${TfToken[TOKEN.1]}",
    "#{TfToken[TOKEN.2]}",
    "&{TfToken[TOKEN.3]}",
    "-1.8881545897087626e+289",
    "\n",
    "\r",
    "\t",
    "\x00",
    "\u202e",
    "\u200b",
    "\ufeff",
    "'",
    '"',
    "\\",
    "`",
    "#",
    "!",
    "*",
    "..",
    "/",
    "@{",
    "aws:",
    "-",
    ".",
    " ",
    "é",
    "main",
    "x" * 300,
)
PARTS = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=3), max_size=4).map("".join)
# Some values must pass the patterns too, so that the synthesized side is exercised for
# pattern-checked fields and not only for free text.
PLAIN = st.from_regex(r"[a-z][a-z0-9]{0,4}", fullmatch=True)
# Terraform and CDKTF syntax on its own, so free-text fields often carry it to the synth.
TEMPLATES = st.sampled_from([f for f in FRAGMENTS if "{" in f]).map(lambda f: f"x {f} ")
HOSTILE = st.tuples(PARTS | PLAIN | TEMPLATES, PARTS | TEMPLATES | st.just("")).map(
    lambda ab: f"{ab[0]}{CANARY}{ab[1]}"
)

SLOTS = string_slots()
# A resource address as CDKTF writes one in a reference: type.name.attribute (names: letters,
# digits, '_' and '-'). Config text may appear in an evaluated expression only inside one.
ADDRESS_RE = re.compile(r"(?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def _base() -> dict[str, Any]:
    data = example_data()
    data["environments"] = data["environments"][:1]  # one stack: a faster synth
    return data


def _slot_value(value: str, index: int) -> str:
    """Each slot gets its own canary, so the output shows which slot's value it holds."""
    return value.replace(CANARY, f"{CANARY}{index}k", 1)


def _accepts(data: dict[str, Any]) -> ToolkitConfig | None:
    try:
        return parse_config(data, "property.yaml")
    except ConfigError as e:
        for line in e.problems:
            assert "\n" not in line, f"a problem spans lines: {line!r}"
        return None


def test_the_models_have_string_fields_to_cover() -> None:
    names = {s.name for s in SLOTS}
    # The fields the issue names are found by discovery, not listed by hand.
    for expected in (
        "environments[0].projects[0].github.branch<value>",
        "environments[0].platform.product.owner<value>",
        "environments[0].platform.launch_role_name<value>",
        "environments[0].backend.kms_key_id<value>",
        "environments[0].backend.hostname<value>",
        "environments[0].tags<dict_value>",
    ):
        assert expected in names
    assert {s.backend for s in SLOTS} >= set(BACKEND_BASES)


def test_free_text_fields_take_template_syntax_and_pattern_fields_do_not() -> None:
    """The hostile values do reach the synthesizer through the free-text fields."""
    accepted = {
        slot.name
        for slot in SLOTS
        if slot.backend in (None, "s3") and _accepts(slot.apply(_base(), "x ${a} %{b}")) is not None
    }
    assert accepted >= {
        "environments[0].platform.product.owner<value>",
        "environments[0].platform.product.description<value>",
        "environments[0].platform.product.version<value>",
    }
    assert "environments[0].projects[0].github.branch<value>" not in accepted
    assert "environments[0].backend.key<value>" not in accepted


@settings(derandomize=True, max_examples=200, deadline=None)
@given(value=HOSTILE)
def test_every_string_field_refuses_or_keeps_the_value_exactly(value: str) -> None:
    """Validation alone, every field (28 today) per example: refused with one-line problems,
    or kept exactly as written (no silent trimming or rewriting)."""
    base = _base()
    for slot in SLOTS:
        config = _accepts(slot.apply(base, value))
        if config is None:
            continue
        text = json.dumps(config.model_dump(mode="json", by_alias=True))
        assert json.dumps(value)[1:-1] in text, f"{slot.name}: {value!r} was changed"


def template_sequences(text: str) -> Iterator[str]:
    """The expressions Terraform would evaluate in ``text`` (its template syntax: ``$${`` and
    ``%%{`` are escapes, ``${...}`` and ``%{...}`` are evaluated)."""
    i = 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            i += 3
            continue
        if text.startswith(("${", "%{"), i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            yield text[i:j]
            i = j
            continue
        i += 1


def strings_in(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


def test_template_sequences_reader() -> None:
    assert list(template_sequences("a ${x.y} $${z} %{ if a }b%{ endif } %%{c}")) == [
        "${x.y}",
        "%{ if a }",
        "%{ endif }",
    ]
    assert list(template_sequences(literal('$${ ${file("x")} %{'))) == []


def _synth(config: ToolkitConfig, outdir: Path) -> dict[str, Any]:
    from modules.app import build_app  # noqa: PLC0415 - cdktf only for the synth tests
    from modules.artifacts import build_artifacts  # noqa: PLC0415
    from modules.render.seed_files import seed_files  # noqa: PLC0415

    app = build_app(
        config, artifacts=build_artifacts(config), seed_files=seed_files(), outdir=outdir
    )
    app.synth()
    (stack,) = (outdir / "stacks").iterdir()
    return dict(json.loads((stack / "cdk.tf.json").read_text(encoding="utf-8")))


def _combine(value: str, backend: str) -> tuple[dict[str, Any], list[tuple[int, StringSlot]]]:
    """The example with ``value`` (one canary per slot) in every slot that accepts it."""
    data = _base()
    kept: list[tuple[int, StringSlot]] = []
    for index, slot in enumerate(SLOTS):
        if slot.backend not in (None, backend):
            continue
        candidate = slot.apply(data, _slot_value(value, index))
        if _accepts(candidate) is not None:
            data = candidate
            kept.append((index, slot))
    if not any(s.backend == backend for _, s in kept):
        data["environments"][0]["backend"] = dict(BACKEND_BASES[backend])
    return data, kept


@settings(
    derandomize=True,
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=HOSTILE, backend=st.sampled_from(sorted(BACKEND_BASES)))
# Plain values, which most pattern-checked fields accept, once per backend type.
@example(value="ab" + CANARY, backend="local")
@example(value="cd" + CANARY, backend="s3")
@example(value="ef" + CANARY, backend="cloud")
def test_accepted_values_reach_terraform_only_as_literals(
    value: str, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data, kept = _combine(value, backend)
    config = _accepts(data)
    assert config is not None
    stack = _synth(config, tmp_path_factory.mktemp("literal") / "out")
    text = json.dumps(stack)
    assert "TfToken" not in text
    for string in strings_in(stack):
        for expression in template_sequences(string):
            # Config text inside an evaluated expression is only allowed as part of a resource
            # address (a validated name in a construct id), never as code.
            for m in re.finditer(rf"[\w.-]*{CANARY}[\w.-]*", expression, re.IGNORECASE):
                assert ADDRESS_RE.fullmatch(m.group()), f"Terraform would evaluate {expression!r}"
                assert expression[m.start() - 1] not in "\"'", f"config text in {expression!r}"
    for index, slot in kept:
        # Each accepted value reached the output (nothing swallowed or swapped by CDKTF).
        assert re.search(rf"{CANARY}{index}k", text, re.IGNORECASE), slot.name
    product = next(iter(stack["resource"]["aws_servicecatalog_product"].values()))
    owner = parse_config(data).environments[0].platform.product.owner
    assert product["owner"] == literal(owner)


def test_fails_on_cdktf_token_marker_anywhere() -> None:
    data = _base()
    data["environments"][0]["platform"]["product"] = {"owner": "a ${TfToken[TOKEN.1]}"}
    with pytest.raises(ConfigError) as info:
        parse_config(data, "c.yaml")
    assert info.value.problems == (
        "environments[0].platform.product.owner: 'a ${TfToken[TOKEN.1]}' holds '{TfToken[', "
        "the marker CDKTF uses for references; it can never be written literally: remove it",
    )


def test_product_text_with_templates_is_written_escaped(tmp_path: Path) -> None:
    data = _base()
    data["environments"][0]["platform"]["product"] = {
        "owner": 'ML ${file("/etc/hostname")}',
        "description": "%{ if true }x%{ endif } $${already}",
        "version": "v${1+1}",
    }
    stack = _synth(parse_config(data), tmp_path / "out")
    product = next(iter(stack["resource"]["aws_servicecatalog_product"].values()))
    assert product["owner"] == 'ML $${file("/etc/hostname")}'
    assert product["description"] == "%%{ if true }x%%{ endif } $$${already}"
    assert product["provisioning_artifact_parameters"]["name"] == "v$${1+1} (initial)"
    (portfolio,) = stack["resource"]["aws_servicecatalog_portfolio"].values()
    assert portfolio["provider_name"] == 'ML $${file("/etc/hostname")}'
    (artifact,) = stack["resource"]["aws_servicecatalog_provisioning_artifact"].values()
    assert artifact["name"].startswith("v$${1+1} (")
