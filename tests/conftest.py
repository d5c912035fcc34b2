"""Shared fixtures: synthesized stacks are built once per session and shared by tests."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "config" / "example.yaml"


@dataclass(frozen=True)
class Synth:
    """A synthesized output directory with helpers to read it."""

    outdir: Path
    stdout: str
    stderr: str

    def stack(self, name: str) -> dict[str, Any]:
        path = self.outdir / "stacks" / name / "cdk.tf.json"
        return json.loads(path.read_text(encoding="utf-8"))

    def stack_names(self) -> list[str]:
        return sorted(p.name for p in (self.outdir / "stacks").iterdir())


def run_main(
    config: Path, outdir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``main.py`` in a fresh process, as `make synth` does."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("CDKTF_OUTDIR", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--config", str(config), "--outdir", str(outdir)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def example_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir = tmp_path_factory.mktemp("example") / "cdktf.out"
    if FAST:
        return _synth_in_process(EXAMPLE_CONFIG, outdir)
    result = run_main(EXAMPLE_CONFIG, outdir)
    assert result.returncode == 0, result.stderr
    return Synth(outdir, result.stdout, result.stderr)


# --- `make test-fast` (the inner loop, MLOPS_TEST_FAST=1, `-m "not slow and not heavy"`) ------
# The example is synthesized in this process (the same JSON: tests/modules/test_runtime.py and
# the full suite's subprocess synth prove it), and tests marked `heavy` are left out: those that
# start main.py, a synth per config variant (`synth_config`) or per generated example, ruff/mypy,
# checkov, cfn-lint, zizmor, and the preflight tests against moto_server (`moto_module`: a
# seeded account and a full preflight per test, about 1 s each).
# `make test` (CI) runs everything, with the example synthesized by `main.py` in a subprocess.
FAST = os.environ.get("MLOPS_TEST_FAST") == "1"
HEAVY_FIXTURES = frozenset({"synth_config", "moto_module"})
HEAVY_TESTS = (
    "tests/test_main.py::",
    # a synth per generated example (hypothesis, derandomized, tens to hundreds of examples)
    "tests/test_config_literal_output.py::test_every_string_field_refuses_or_keeps_the_value_",
    "tests/test_config_literal_output.py::test_accepted_values_reach_terraform_only_as_literals",
    "tests/test_ownership.py::test_generated_configs_",
    "tests/modules/aws/test_project_isolation.py::",
    "tests/test_main_fuzz.py::test_generated_documents_exit_2_without_traceback",
    "tests/test_main_fuzz.py::test_hostile_files_exit_2_in_a_fresh_process",
    # 200 projects in one synth; synths stopped by signals in a subprocess
    "tests/modules/test_stack_scale.py::",
    "tests/test_synth_atomic.py::",
    "tests/gates/test_checkov_gate.py::",
    "tests/gates/test_python_lint.py::",
    "tests/gates/test_synthesized_artifacts.py::",
    "tests/test_drift_workflow.py::test_zizmor_finds_nothing",
    "tests/gates/test_secret_canaries.py::test_no_secret_input_reaches_output_logs_or_snapshots",
    "tests/modules/test_runtime.py::test_lazy_mode_imports_only_used_modules",
    # the provider lifecycle model: a synth per config variant and every scenario, twice
    "tests/modules/github/test_provider_lifecycle.py::",
    "tests/support/test_stateful_github_conformance.py::",
)


def _synth_in_process(config: Path, outdir: Path) -> Synth:
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    from modules.core.config import load_config  # noqa: PLC0415
    from modules.synth import synthesize  # noqa: PLC0415

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        print(synthesize(load_config(config), outdir).render())
    return Synth(outdir, out.getvalue(), err.getvalue())


#: The two longest tests (Terraform against moto, minutes each). `make test` runs on two
#: workers with work stealing, each starting on one half of the collection: the second one is
#: moved to the start of the second half, so they run side by side instead of one after the
#: other (the order of tests does not matter to them; without xdist it changes nothing).
SECOND_HALF_FIRST = "tests/e2e/test_terraform_moto.py::test_cdktf_cli_diff_and_deploy"


def pytest_configure(config: pytest.Config) -> None:
    """The test session is an entry point: prepare the CDKTF runtime (modules/runtime.py) once,
    before any test module imports a construct (importing modules.* has no side effects)."""
    from modules import runtime  # noqa: PLC0415

    runtime.prepare()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    moved = [item for item in items if item.nodeid == SECOND_HALF_FIRST]
    if moved:
        items.remove(moved[0])
        items.insert(len(items) // 2, moved[0])
    for item in items:
        heavy_fixture = HEAVY_FIXTURES & set(getattr(item, "fixturenames", ()))
        if heavy_fixture or item.nodeid.startswith(HEAVY_TESTS):
            item.add_marker(pytest.mark.heavy)


@pytest.fixture(scope="session")
def synth_config(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], Synth]:
    """Synthesize a config given as data; identical configs are synthesized once."""
    cache: dict[str, Synth] = {}

    def _synth(data: dict[str, Any]) -> Synth:
        text = yaml.safe_dump(data, sort_keys=True)
        key = hashlib.sha256(text.encode()).hexdigest()[:12]
        if key not in cache:
            base = tmp_path_factory.mktemp(f"cfg-{key}")
            config = base / "config.yaml"
            config.write_text(text, encoding="utf-8")
            # In this process: the subprocess is not the point here (tests/test_main.py and
            # example_synth run main.py itself), and a synth costs a fraction of one.
            cache[key] = _synth_in_process(config, base / "cdktf.out")
        return cache[key]

    return _synth


@pytest.fixture
def example() -> dict[str, Any]:
    """A fresh, mutable copy of the example config's data."""
    return copy.deepcopy(example_data())


def resources(stack: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return dict(stack.get("resource", {}).get(rtype, {}))


def data_sources(stack: dict[str, Any], dtype: str) -> dict[str, dict[str, Any]]:
    return dict(stack.get("data", {}).get(dtype, {}))
