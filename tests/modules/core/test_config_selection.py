"""Which config a run uses, and that nothing replaces another config's output silently."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.core.config import ConfigError, choose_config, write_record
from modules.core.config.selection import (
    RECORD_NAME,
    ConfigChoice,
    check_replaces,
    display_path,
    read_record,
    same_file,
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "example.yaml").write_text("example\n")
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(name)
    return tmp_path


def choose(project: Path, *, explicit: str | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return choose_config(
        explicit=explicit,
        environ=env or {},
        outdir=project / "cdktf.out",
        project_config=project / "mlops.yaml",
        example_config=project / "config" / "example.yaml",
    )


def test_default_is_the_example_then_mlops_yaml(project: Path) -> None:
    assert choose(project).path == project / "config" / "example.yaml"
    assert choose(project).source == "example"
    (project / "mlops.yaml").write_text("x")
    assert choose(project).path == project / "mlops.yaml"
    assert choose(project).source == "mlops.yaml"


def test_the_record_is_remembered_relative_to_the_output(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "a.yaml")
    assert json.loads((out / RECORD_NAME).read_text()) == {"config": "../a.yaml"}
    (project / "mlops.yaml").write_text("x")
    chosen = choose(project)
    assert chosen.source == "recorded"
    assert same_file(chosen.path, project / "a.yaml")
    assert not chosen.switches


def test_a_generic_config_variable_is_ignored(project: Path) -> None:
    """`CONFIG` may leak in from a CI system; only MLOPS_CONFIG counts."""
    chosen = choose(project, env={"CONFIG": str(project / "b.yaml")})
    assert chosen.source == "example"


def test_mlops_config_overrides_the_defaults(project: Path) -> None:
    (project / "mlops.yaml").write_text("x")
    chosen = choose(project, env={"MLOPS_CONFIG": str(project / "b.yaml")})
    assert (chosen.path, chosen.source) == (project / "b.yaml", "MLOPS_CONFIG")


def test_fails_when_mlops_config_differs_from_the_recorded_config(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "a.yaml")
    with pytest.raises(ConfigError) as e:
        choose(project, env={"MLOPS_CONFIG": str(project / "b.yaml")})
    message = str(e.value)
    assert f"MLOPS_CONFIG={project / 'b.yaml'}" in message
    assert "was synthesized from" in message and "a.yaml" in message
    assert f"make synth CONFIG={project / 'b.yaml'}" in message
    assert "unset MLOPS_CONFIG" in message


def test_mlops_config_naming_the_recorded_file_is_fine(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "a.yaml")
    chosen = choose(project, env={"MLOPS_CONFIG": str(project / "a.yaml")})
    assert chosen.source == "MLOPS_CONFIG" and not chosen.switches


def test_an_explicit_config_may_switch(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "a.yaml")
    chosen = choose(project, explicit=str(project / "b.yaml"))
    assert chosen.source == "--config" and chosen.switches


def test_fails_when_mlops_yaml_appears_after_a_synth_of_the_example(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "config" / "example.yaml")
    assert choose(project).source == "recorded"
    (project / "mlops.yaml").write_text("x")
    with pytest.raises(ConfigError, match=r"run `make synth CONFIG=mlops.yaml` once"):
        choose(project)


def test_fails_when_the_recorded_config_is_gone(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "a.yaml")
    (project / "a.yaml").unlink()
    with pytest.raises(ConfigError, match="no longer exists; restore it, or choose a config"):
        choose(project)


def test_fails_on_an_unreadable_record(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    (out / RECORD_NAME).write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read the record of the last synth"):
        read_record(out)
    (out / RECORD_NAME).write_text("{}")
    with pytest.raises(ConfigError, match="'config' is missing; delete the file"):
        read_record(out)


def test_fails_when_unrecorded_output_has_stacks_the_config_lacks(project: Path) -> None:
    """Output from before records existed: a default choice may not delete its stacks."""
    stack = project / "cdktf.out" / "stacks" / "mine"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text("{}")
    chosen = choose(project)
    with pytest.raises(ConfigError, match=r"holds stack\(s\) mine that this config"):
        check_replaces(chosen, {"dev", "prod"}, project / "cdktf.out")
    check_replaces(chosen, {"mine", "dev"}, project / "cdktf.out")  # a superset is fine
    check_replaces(choose(project, explicit="x.yaml"), {"dev"}, project / "cdktf.out")


# --- property: whatever the situation, a run that was not told a config explicitly ends up
# with the recorded config or refuses; the precedence is the documented one.

situations = st.fixed_dictionaries(
    {
        "explicit": st.sampled_from([None, "a.yaml", "b.yaml"]),
        "env": st.sampled_from([None, "a.yaml", "b.yaml"]),
        "recorded": st.sampled_from([None, "a.yaml", "b.yaml", "config/example.yaml"]),
        "mlops_yaml": st.booleans(),
        "leaked_config": st.sampled_from([None, "a.yaml", "b.yaml"]),
    }
)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(situation=situations)
def test_property_no_silent_switch_and_documented_precedence(
    tmp_path_factory: pytest.TempPathFactory, situation: dict[str, str | bool | None]
) -> None:
    project = tmp_path_factory.mktemp("p")
    (project / "config").mkdir()
    (project / "config" / "example.yaml").write_text("e")
    for name in ("a.yaml", "b.yaml"):
        (project / name).write_text(name)
    if situation["mlops_yaml"]:
        (project / "mlops.yaml").write_text("m")
    out = project / "cdktf.out"
    out.mkdir()
    recorded = situation["recorded"]
    if isinstance(recorded, str):
        write_record(out, project / recorded)
    env: dict[str, str] = {}
    if isinstance(situation["env"], str):
        env["MLOPS_CONFIG"] = str(project / situation["env"])
    if isinstance(situation["leaked_config"], str):
        env["CONFIG"] = str(project / situation["leaked_config"])
    explicit = situation["explicit"]
    explicit_path = str(project / explicit) if isinstance(explicit, str) else None
    try:
        chosen = choose(project, explicit=explicit_path, env=env)
    except ConfigError:
        # refused only when nothing explicit was given and either MLOPS_CONFIG contradicts the
        # record, or the record is the example while mlops.yaml exists
        assert explicit is None and recorded is not None
        contradicts = situation["env"] not in {None, recorded}
        outgrown = situation["env"] is None and recorded.endswith("example.yaml")
        assert contradicts or (outgrown and situation["mlops_yaml"])
        return
    if explicit is not None:
        expected = project / explicit
    elif situation["env"] is not None:
        expected = project / str(situation["env"])
    elif recorded is not None:
        expected = project / str(recorded)
    elif situation["mlops_yaml"]:
        expected = project / "mlops.yaml"
    else:
        expected = project / "config" / "example.yaml"
    assert same_file(chosen.path, expected)
    if chosen.source != "--config" and recorded is not None:
        assert same_file(chosen.path, project / str(recorded)), "a silent switch"


def test_a_config_outside_the_project_is_recorded_absolute(tmp_path: Path) -> None:
    out = tmp_path / "project" / "cdktf.out"
    out.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("x")
    write_record(out, elsewhere)
    assert json.loads((out / RECORD_NAME).read_text()) == {"config": str(elsewhere.resolve())}
    recorded = read_record(out)
    assert recorded is not None and same_file(recorded, elsewhere)


def test_a_new_mlops_yaml_next_to_another_remembered_config_is_announced(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "a.yaml")
    assert choose(project).notice is None
    (project / "mlops.yaml").write_text("x")
    chosen = choose(project)
    assert same_file(chosen.path, project / "a.yaml"), "the remembered config still wins"
    assert chosen.notice == (
        "note: mlops.yaml is not used: the output remembers a.yaml; to switch, run "
        "`make synth CONFIG=mlops.yaml` once"
    )
    write_record(out, project / "mlops.yaml")
    assert choose(project).notice is None, "nothing to announce once mlops.yaml is remembered"


# --- in-process checks of every message, source and record byte (the mutation run sees these;
# the main.py subprocess tests elsewhere it cannot).


def _as_if_the_locale_were_latin_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files opened without an explicit encoding use the locale's; make that Latin-1 (as on a
    machine with LANG=de_DE.ISO-8859-1) so a missing ``encoding="utf-8"`` shows."""
    real = io.text_encoding

    def text_encoding(encoding: str | None, stacklevel: int = 2) -> str:
        return "latin-1" if encoding is None else real(encoding, stacklevel)

    monkeypatch.setattr(io, "text_encoding", text_encoding)


def test_the_record_is_read_as_utf_8_whatever_the_locale(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    (out / RECORD_NAME).write_bytes('{"config": "../caf\u00e9.yaml"}\n'.encode())
    _as_if_the_locale_were_latin_1(monkeypatch)
    assert read_record(out) == project / "caf\u00e9.yaml"


def test_the_record_file_is_two_space_indented_json(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    assert write_record(out, project / "a.yaml") == out / RECORD_NAME
    assert (out / RECORD_NAME).read_bytes() == b'{\n  "config": "../a.yaml"\n}\n'
    assert [p.name for p in out.iterdir()] == [RECORD_NAME], "no temporary file is left"


def test_an_unreadable_record_names_the_file(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    (out / RECORD_NAME).write_text("{not json")
    with pytest.raises(ConfigError) as e:
        read_record(out)
    assert e.value.source == str(out / RECORD_NAME)
    assert e.value.problems == (
        "cannot read the record of the last synth (Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)); delete the file",
    )


@pytest.mark.parametrize("text", ["[]", '"../a.yaml"', "{}", '{"config": ""}', '{"config": 5}'])
def test_a_record_without_a_config_path_names_the_file(project: Path, text: str) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    (out / RECORD_NAME).write_text(text)
    with pytest.raises(ConfigError) as e:
        read_record(out)
    assert e.value.source == str(out / RECORD_NAME)
    assert e.value.problems == ("'config' is missing; delete the file and synth again",)


def test_no_record_and_an_outdir_that_is_a_file_read_as_none(project: Path) -> None:
    assert read_record(project / "cdktf.out") is None
    assert read_record(project / "a.yaml") is None


def test_each_choice_keeps_what_the_output_was_made_from(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "a.yaml")
    from_env = choose(project, env={"MLOPS_CONFIG": str(project / "a.yaml")})
    assert from_env == ConfigChoice(
        path=project / "a.yaml", source="MLOPS_CONFIG", previous=project / "a.yaml"
    )
    assert choose(project) == ConfigChoice(
        path=project / "a.yaml", source="recorded", previous=project / "a.yaml"
    )
    explicit = choose(project, explicit="b.yaml")
    assert explicit == ConfigChoice(
        path=Path("b.yaml"), source="--config", previous=project / "a.yaml"
    )
    assert choose(project, env={"MLOPS_CONFIG": "  "}).source == "recorded", "blank is unset"


def test_a_recorded_config_that_is_gone_is_named(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "a.yaml")
    (project / "a.yaml").unlink()
    with pytest.raises(ConfigError) as e:
        choose(project)
    assert e.value.source == str(project / "a.yaml")
    assert e.value.problems == (
        f"{out}/ was synthesized from this file and it no longer exists; restore it, or choose "
        "a config: `make synth CONFIG=path`",
    )


def test_outgrowing_the_example_names_mlops_yaml(project: Path) -> None:
    out = project / "cdktf.out"
    out.mkdir()
    write_record(out, project / "config" / "example.yaml")
    (project / "mlops.yaml").write_text("x")
    with pytest.raises(ConfigError) as e:
        choose(project)
    assert e.value.source == str(project / "mlops.yaml")
    assert e.value.problems == (
        f"{out}/ was synthesized from the example ({project / 'config' / 'example.yaml'}); "
        "to use mlops.yaml from now on, run `make synth CONFIG=mlops.yaml` once (or `make clean`)",
    )


def test_unrecorded_output_with_other_stacks_names_the_config_and_all_stacks(
    project: Path,
) -> None:
    out = project / "cdktf.out"
    for name in ("zeta", "alpha", "dev"):
        (out / "stacks" / name).mkdir(parents=True)
        (out / "stacks" / name / "cdk.tf.json").write_text("{}")
    (out / "stacks" / "empty").mkdir()
    with pytest.raises(ConfigError) as e:
        check_replaces(choose(project), {"dev"}, out)
    assert e.value.source == str(project / "config" / "example.yaml")
    assert e.value.problems == (
        f"{out}/ holds stack(s) alpha, zeta that this config (the example; add mlops.yaml or "
        "pass CONFIG= to use your own) does not have, and no synthesized-from.json says which "
        "config made them; run `make synth CONFIG=<the config you deploy>` once to choose",
    )


def test_a_remembered_config_outside_the_current_directory_is_shown_as_recorded(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert display_path(project / "a.yaml") == str(project / "a.yaml")
    assert display_path(Path("x") / "y.yaml") == "x/y.yaml"
    chosen = ConfigChoice(
        path=project / "a.yaml", source="recorded", passed_over=project / "mlops.yaml"
    )
    assert chosen.notice == (
        f"note: mlops.yaml is not used: the output remembers {project / 'a.yaml'}; to switch, "
        "run `make synth CONFIG=mlops.yaml` once"
    )
