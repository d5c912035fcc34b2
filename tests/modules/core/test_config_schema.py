"""config/schema.json: generated from the models, never stale, usable by editors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from modules.core.config import schema
from modules.core.config.schema import config_schema, main, render_schema
from tests.conftest import EXAMPLE_CONFIG, ROOT

SCHEMA_FILE = ROOT / "config" / "schema.json"


def test_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), "run `make schema`"


def test_generation_is_deterministic() -> None:
    assert render_schema() == render_schema()
    assert json.loads(render_schema()) == config_schema()


def test_fails_check_when_the_schema_file_is_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "schema.json"
    stale.write_text(render_schema().replace('"main"', '"master"'), encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert f"{stale} is stale: run `make schema`" in capsys.readouterr().err
    assert main(["--write", str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0


def test_example_points_editors_at_the_schema() -> None:
    first = EXAMPLE_CONFIG.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./schema.json"
    assert (EXAMPLE_CONFIG.parent / "schema.json").is_file()


def test_schema_accepts_the_example_and_rejects_unknown_keys() -> None:
    validator = jsonschema.Draft202012Validator(config_schema())
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    validator.validate(data)
    data["environments"][0]["platform"]["lambda"]["runtim"] = "python3.12"
    errors = [e.message for e in validator.iter_errors(data)]
    assert any("'runtim' was unexpected" in m for m in errors), errors


def test_schema_uses_the_yaml_keys_and_documents_defaults() -> None:
    platform = config_schema()["$defs"]["Platform"]["properties"]
    assert "lambda" in platform, "the YAML key, not the Python field name"
    branch = config_schema()["$defs"]["GitHubRepository"]["properties"]["branch"]
    assert branch["default"] == "main"


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--help"])
    assert raised.value.code == 0
    usage = " ".join(capsys.readouterr().out.split())
    assert "The config's JSON Schema, generated from the pydantic models, for editors." in usage
    assert "--write WRITE write the schema to this file" in usage
    assert "--check CHECK exit 1 when this file is not up to date" in usage
    with pytest.raises(SystemExit) as raised:
        main([])  # one of the two is required
    assert raised.value.code == 2
    written = tmp_path / "schema.json"
    assert main(["--write", str(written)]) == 0
    assert capsys.readouterr().out == f"wrote {written}\n"
    assert written.read_bytes() == render_schema().encode("utf-8")
    missing = tmp_path / "missing.json"
    assert main(["--check", str(missing)]) == 1
    assert capsys.readouterr().err == f"{missing} is stale: run `make schema`\n"


def test_the_schema_is_written_with_sorted_keys_and_unescaped_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(schema, "config_schema", lambda: {"title": "caf\u00e9", "$id": "x"})
    assert render_schema() == '{\n  "$id": "x",\n  "title": "caf\u00e9"\n}\n'


def test_the_schema_file_is_utf_8_whatever_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files opened without an explicit encoding use the locale's; with a Latin-1 locale (as
    on a machine with LANG=de_DE.ISO-8859-1) the file is still written and read as UTF-8."""
    real = io.text_encoding

    def text_encoding(encoding: str | None, stacklevel: int = 2) -> str:
        return "latin-1" if encoding is None else real(encoding, stacklevel)

    monkeypatch.setattr(io, "text_encoding", text_encoding)
    monkeypatch.setattr(schema, "render_schema", lambda: "caf\u00e9\n")
    written = tmp_path / "schema.json"
    assert main(["--write", str(written)]) == 0
    assert written.read_bytes() == b"caf\xc3\xa9\n"
    assert main(["--check", str(written)]) == 0
    assert capsys.readouterr().err == ""
