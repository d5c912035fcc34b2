"""Unit tests of the zip writer, the function zip, targets, the lock parser and the CLI errors."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from layer_build import (
    LOCK_PATH,
    LayerBuildError,
    UnsafeArchivePathError,
    UnsupportedTargetError,
    build_function_zip,
    build_layer,
)
from layer_build.build import parse_lock, wheel_fits
from layer_build.deterministic_zip import ZipEntry, write_deterministic_zip
from layer_build.targets import make_target
from tests.layer_build.conftest import ROOT

HASH_A = "a" * 64
HASH_B = "b" * 64


def test_zip_bytes_do_not_depend_on_insertion_order(tmp_path: Path) -> None:
    entries = {"b/x.py": ZipEntry(data=b"x"), "a.py": ZipEntry(data=b"a", executable=True)}
    first = write_deterministic_zip(entries, tmp_path / "1.zip")
    second = write_deterministic_zip(dict(reversed(entries.items())), tmp_path / "2.zip")

    assert first.path.read_bytes() == second.path.read_bytes()
    with zipfile.ZipFile(first.path) as archive:
        listing = {i.filename: (i.external_attr >> 16) & 0o7777 for i in archive.infolist()}
    assert listing == {"a.py": 0o755, "b/": 0o755, "b/x.py": 0o644}


@pytest.mark.parametrize("name", ["/etc/passwd", "../evil.py", "a/../../b", "C:/x", "a\\b", ""])
def test_unsafe_entry_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafeArchivePathError):
        write_deterministic_zip({name: ZipEntry(data=b"")}, tmp_path / "x.zip")


def test_function_zip_is_reproducible_across_mtimes_and_modes(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "lambda_src", src, ignore=shutil.ignore_patterns("__pycache__"))
    (src / "github_trigger" / "__pycache__").mkdir()
    (src / "github_trigger" / "__pycache__" / "config.cpython-312.pyc").write_bytes(b"junk")
    first = build_function_zip(src_dir=src, out_path=tmp_path / "one.zip")
    for path in src.rglob("*.py"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    (src / "handler.py").chmod(0o755)
    second = build_function_zip(src_dir=src, out_path=tmp_path / "two.zip")

    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.base64_sha256 == second.base64_sha256
    with zipfile.ZipFile(first.path) as archive:
        names = archive.namelist()
        modes = {(i.external_attr >> 16) & 0o777 for i in archive.infolist() if not i.is_dir()}
        assert archive.read("handler.py") == (src / "handler.py").read_bytes()
    assert "handler.py" in names
    assert "github_trigger/dispatch.py" in names
    assert not any(n.endswith((".pyc", ".md")) or "__pycache__" in n for n in names)
    assert modes == {0o644}


def test_function_zip_changes_when_code_changes(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "handler.py").write_text("X = 1\n")
    before = build_function_zip(src_dir=src, out_path=tmp_path / "a.zip")
    (src / "handler.py").write_text("X = 2\n")
    after = build_function_zip(src_dir=src, out_path=tmp_path / "b.zip")
    assert before.sha256_hex != after.sha256_hex


def test_function_zip_refuses_symlinks(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "real.py").write_text("")
    (src / "link.py").symlink_to(tmp_path / "real.py")
    with pytest.raises(LayerBuildError, match="symlink"):
        build_function_zip(src_dir=src, out_path=tmp_path / "f.zip")


@pytest.mark.parametrize(
    ("runtime", "architecture", "named"),
    [("python3.11", "arm64", "'python3.11'"), ("python3.12", "aarch64", "'aarch64'")],
)
def test_unsupported_targets_name_the_value(
    tmp_path: Path, runtime: str, architecture: str, named: str
) -> None:
    with pytest.raises(UnsupportedTargetError, match=named):
        build_layer(runtime=runtime, architecture=architecture, out_dir=tmp_path)


def test_cli_reports_unsupported_architecture() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "layer_build", "--architecture", "ppc64le", "--out", "unused"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "unsupported architecture 'ppc64le'" in completed.stderr
    assert completed.stdout == ""


def test_markers_are_evaluated_for_the_target_not_this_machine() -> None:
    lock = (
        "# comment\n"
        f"onlyarm==1.0 ; platform_machine == 'aarch64' \\\n    --hash=sha256:{HASH_A}\n"
        "    # via something\n"
        f"new-py==2.0 ; python_version >= '3.13' --hash=sha256:{HASH_B}\n"
    )
    [onlyarm, new_py] = parse_lock(lock)
    arm312 = make_target(runtime="python3.12", architecture="arm64")
    x86313 = make_target(runtime="python3.13", architecture="x86_64")

    assert onlyarm.hashes == frozenset({HASH_A})
    assert (onlyarm.applies_to(arm312), onlyarm.applies_to(x86313)) == (True, False)
    assert (new_py.name, new_py.version) == ("new-py", "2.0")
    assert (new_py.applies_to(arm312), new_py.applies_to(x86313)) == (False, True)


@pytest.mark.parametrize(
    ("lock", "message"),
    [
        (f"pkg>=1.0 --hash=sha256:{HASH_A}\n", "must pin one version"),
        ("pkg==1.0\n", "no --hash"),
        ("# nothing\n", "lists no requirements"),
    ],
)
def test_lock_without_pins_or_hashes_is_refused(lock: str, message: str) -> None:
    with pytest.raises(LayerBuildError, match=message):
        parse_lock(lock)


def test_project_lock_pins_everything_with_hashes_for_both_architectures() -> None:
    requirements = {r.name: r for r in parse_lock(LOCK_PATH.read_text())}
    assert requirements["requests"].version == "2.34.2"
    # Compiled packages carry one hash per platform wheel, not only this machine's.
    assert len(requirements["charset-normalizer"].hashes) > 20


def _third_party_imports() -> set[str]:
    """Top-level modules the function's code imports that neither the standard library, the
    function's own zip nor the Lambda Python runtime (boto3, botocore) provides."""
    own = {"handler", "github_trigger"}
    runtime = {"boto3", "botocore"}
    found: set[str] = set()
    for path in (ROOT / "lambda_src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - own - runtime - set(sys.stdlib_module_names)


def test_layer_holds_exactly_what_the_function_imports() -> None:
    """The lock is requests and its required dependencies (from requests' own metadata), and
    the function imports requests and urllib3 (whose exception types it classifies)."""
    assert _third_party_imports() == {"requests", "urllib3"}
    locked = {r.name for r in parse_lock(LOCK_PATH.read_text())}
    required = {
        Requirement(text).name.lower().replace("_", "-")
        for text in importlib.metadata.requires("requests") or []
        if "extra ==" not in text
    }
    assert required == {"charset-normalizer", "idna", "urllib3", "certifi"}
    assert locked == {"requests"} | required


@pytest.mark.parametrize(
    ("wheel", "runtime", "architecture", "fits"),
    [
        ("pkg-1-py3-none-any.whl", "python3.12", "arm64", True),
        (
            "pkg-1-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "python3.12",
            "arm64",
            True,
        ),
        ("pkg-1-cp312-cp312-manylinux_2_17_x86_64.whl", "python3.12", "arm64", False),
        ("pkg-1-cp313-cp313-manylinux_2_28_x86_64.whl", "python3.12", "x86_64", False),
        ("pkg-1-cp311-abi3-manylinux_2_34_x86_64.whl", "python3.13", "x86_64", True),
        ("pkg-1-cp312-cp312-manylinux_2_39_aarch64.whl", "python3.12", "arm64", False),
        ("pkg-1-cp312-cp312-musllinux_1_2_aarch64.whl", "python3.12", "arm64", False),
    ],
)
def test_wheel_fits(wheel: str, runtime: str, architecture: str, fits: bool) -> None:
    assert wheel_fits(wheel, make_target(runtime=runtime, architecture=architecture)) is fits
