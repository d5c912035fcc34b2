"""``build_app(config)``: the whole toolkit as a cdktf App, one stack per environment."""

from __future__ import annotations

from pathlib import Path

from cdktf import App

from modules.config import ToolkitConfig
from modules.stack import EnvironmentStack


def build_app(config: ToolkitConfig, *, outdir: Path | str = "cdktf.out") -> App:
    """Build (but do not synthesize) the app for a validated config."""
    app = App(outdir=str(outdir), skip_validation=False)
    for env in config.environments:
        EnvironmentStack(app, env)
    return app
