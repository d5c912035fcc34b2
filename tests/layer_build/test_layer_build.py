"""Builds the real layer (requests; wheels from the package index) and checks its bytes."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from layer_build import build_layer
from layer_build.build import wheel_fits
from layer_build.targets import make_target
from tests.layer_build.conftest import ROOT, LayerBuilds

pytestmark = pytest.mark.slow

ELF_MACHINE_AARCH64 = 183
ELF_MACHINE_X86_64 = 62


def _elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF"
    return int.from_bytes(data[18:20], "little")


def _python312() -> str | None:
    """A CPython 3.12 interpreter on this machine, to import an x86_64 python3.12 layer."""
    candidates = [os.environ.get("LAYER_TEST_PYTHON312", ""), shutil.which("python3.12") or ""]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.12*/bin/python3.12"), reverse=True)
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


def test_layer_built_twice_is_byte_identical(layer_builds: LayerBuilds) -> None:
    first, second = layer_builds.arm64, layer_builds.arm64_again
    assert first.path != second.path
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256_hex == second.sha256_hex
    assert first.base64_sha256 == second.base64_sha256
    assert layer_builds.x86_64.sha256_hex != first.sha256_hex


def test_existing_layer_is_reused(
    layer_builds: LayerBuilds, capsys: pytest.CaptureFixture[str]
) -> None:
    mtime = layer_builds.arm64.path.stat().st_mtime_ns

    again = build_layer(
        runtime="python3.12",
        architecture="arm64",
        out_dir=layer_builds.arm64.path.parent,
        cache_dir=layer_builds.cache_dir,
    )

    assert again == layer_builds.arm64
    assert again.path.stat().st_mtime_ns == mtime
    assert "reusing" in capsys.readouterr().err


def test_layer_zip_is_normalised(layer_builds: LayerBuilds) -> None:
    with zipfile.ZipFile(layer_builds.arm64.path) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert all(name.startswith("python/") for name in names)
    assert not any("__pycache__" in name or name.endswith((".pyc", ".pyo")) for name in names)
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in infos)
    modes = {info.external_attr >> 16 & 0o7777 for info in infos}
    assert modes <= {0o644, 0o755}
    assert "python/requests/__init__.py" in names
    assert "python/urllib3/__init__.py" in names
    # what the function does not import is not shipped
    assert not any(
        n.startswith(("python/github/", "python/nacl/", "python/cryptography/")) for n in names
    )


def test_arm64_layer_holds_only_aarch64_or_pure_wheels(layer_builds: LayerBuilds) -> None:
    target = make_target(runtime="python3.12", architecture="arm64")
    wheels = sorted(p.name for p in layer_builds.cache_dir.glob("python3.12-arm64-*/*.whl"))
    assert len(wheels) == 5  # requests, urllib3, idna, certifi, charset-normalizer
    for wheel in wheels:
        assert wheel_fits(wheel, target), wheel
        assert wheel.endswith("-any.whl") or "aarch64" in wheel, wheel
        assert "x86_64" not in wheel, wheel
    with zipfile.ZipFile(layer_builds.arm64.path) as archive:
        tag_lines = [
            line
            for name in archive.namelist()
            if name.endswith(".dist-info/WHEEL")
            for line in archive.read(name).decode().splitlines()
            if line.startswith("Tag: ")
        ]
        shared_objects = [n for n in archive.namelist() if n.endswith(".so") or ".so." in n]
        machines = {_elf_machine(archive.read(n)) for n in shared_objects}
    assert tag_lines
    assert all(line.endswith(("-any", "_aarch64")) for line in tag_lines), tag_lines
    assert machines <= {ELF_MACHINE_AARCH64}  # charset-normalizer's compiled speedups, if any


def test_x86_64_layer_unpacked_imports_requests(layer_builds: LayerBuilds, tmp_path: Path) -> None:
    python = _python312()
    if python is None:
        pytest.skip("no CPython 3.12 interpreter on this machine to load the python3.12 layer")
    with zipfile.ZipFile(layer_builds.x86_64.path) as archive:
        machines = {_elf_machine(archive.read(n)) for n in archive.namelist() if n.endswith(".so")}
        archive.extractall(tmp_path)
    assert machines <= {ELF_MACHINE_X86_64}
    code = (
        "import requests, urllib3.exceptions, idna, certifi, charset_normalizer;"
        "requests.Session().close();"
        "print(requests.__file__)"
    )
    # -S: no site-packages, so only the layer's python/ directory provides the packages.
    completed = subprocess.run(
        [python, "-S", "-c", code],
        env={"PYTHONPATH": str(tmp_path / "python"), "PATH": os.environ.get("PATH", "")},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == str(tmp_path / "python" / "requests" / "__init__.py")


def test_cli_prints_path_and_sha256(layer_builds: LayerBuilds) -> None:
    out_dir = layer_builds.arm64.path.parent
    completed = subprocess.run(
        [sys.executable, "-m", "layer_build", "--runtime", "python3.12",
         "--architecture", "arm64", "--out", str(out_dir),
         "--cache-dir", str(layer_builds.cache_dir)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        f"{layer_builds.arm64.path} sha256={layer_builds.arm64.sha256_hex} "
        f"base64sha256={layer_builds.arm64.base64_sha256}"
    ]
    assert completed.stderr.startswith("layer_build: reusing")
