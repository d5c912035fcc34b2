"""Tests of modules/render/seed_files.py: the seed code committed to each ML repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.render.seed_files import SEED_ROOT, SeedFileError, seed_files

DEPLOY_FILES = {
    "deploy/__init__.py",
    "deploy/deploy.py",
    "deploy/requirements.txt",
    "deploy/smoke_test_sample.csv",
}


def test_returns_the_deploy_package_keyed_by_repository_path() -> None:
    files = seed_files()
    deploy = {path for path in files if path.startswith("deploy/")}
    assert deploy == DEPLOY_FILES
    assert files["deploy/deploy.py"] == (SEED_ROOT / "deploy" / "deploy.py").read_text("utf-8")
    assert "boto3==" in files["deploy/requirements.txt"]


def test_every_seed_file_is_lf_text_with_a_final_newline_sorted_by_path() -> None:
    files = seed_files()
    assert list(files) == sorted(files)
    for path, text in files.items():
        assert not path.startswith("/") and "\\" not in path and ".." not in path.split("/")
        assert "__pycache__" not in path and not path.endswith((".pyc", ".pyo"))
        assert "\r" not in text, path
        assert text == "" or text.endswith("\n"), path
    on_disk = {
        p.relative_to(SEED_ROOT).as_posix()
        for p in SEED_ROOT.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    }
    assert set(files) == on_disk


def test_pipelines_files_are_included_when_present() -> None:
    files = seed_files()
    expected = {
        p.relative_to(SEED_ROOT).as_posix()
        for p in (SEED_ROOT / "pipelines").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert expected <= set(files)


def test_normalises_line_endings_and_skips_caches_and_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\x00\x01")
    (tmp_path / "pkg" / "stray.pyc").write_bytes(b"\x00")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_text("x\n")
    (tmp_path / "pkg" / ".DS_Store").write_bytes(b"\x00\x00")
    (tmp_path / "pkg" / "crlf.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    (tmp_path / "pkg" / "no_newline.txt").write_bytes(b"last line")
    (tmp_path / "pkg" / "old_mac.txt").write_bytes(b"one\rtwo\r")
    (tmp_path / "pkg" / "__init__.py").write_bytes(b"")
    (tmp_path / "a.txt").write_text("first\n")

    assert seed_files(tmp_path) == {
        "a.txt": "first\n",
        "pkg/__init__.py": "",
        "pkg/crlf.py": "a = 1\nb = 2\n",
        "pkg/no_newline.txt": "last line\n",
        "pkg/old_mac.txt": "one\ntwo\n",
    }


def test_fails_on_a_file_that_is_not_utf8_text(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(SeedFileError, match=r"^seed file model\.bin is not UTF-8 text"):
        seed_files(tmp_path)


def test_fails_on_a_file_with_nul_bytes(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_bytes(b"a,b\x00\n")
    with pytest.raises(SeedFileError, match=r"^seed file data\.csv holds NUL bytes"):
        seed_files(tmp_path)


def test_fails_when_the_root_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match="is not a directory"):
        seed_files(tmp_path / "missing")
