"""``build_app(config)``: the whole toolkit as a cdktf App, one stack per environment."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cdktf import App

from modules.artifacts import BuildArtifacts
from modules.core.config import ToolkitConfig
from modules.stack import EnvironmentStack, EnvironmentStackProps


def build_app(
    config: ToolkitConfig,
    *,
    artifacts: BuildArtifacts,
    seed_files: Mapping[str, str],
    outdir: Path | str = "cdktf.out",
) -> App:
    """Build (but do not synthesize) the app for a validated config and prebuilt zips."""
    app = App(outdir=str(outdir), skip_validation=False)
    for env in config.environments:
        EnvironmentStack(
            app,
            EnvironmentStackProps(environment=env, artifacts=artifacts, seed_files=seed_files),
        )
    return app
