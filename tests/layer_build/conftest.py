"""Session-wide layer builds shared by the layer_build tests (they download wheels once)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from layer_build import Artifact, build_layer

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, kw_only=True)
class LayerBuilds:
    """Two arm64 builds (separate output dirs, shared wheel cache) and one x86_64 build."""

    cache_dir: Path
    arm64: Artifact
    arm64_again: Artifact
    x86_64: Artifact


@pytest.fixture(scope="session")
def layer_builds(tmp_path_factory: pytest.TempPathFactory) -> LayerBuilds:
    base = tmp_path_factory.mktemp("layers")
    cache_dir = base / "wheel-cache"
    return LayerBuilds(
        cache_dir=cache_dir,
        arm64=build_layer(
            runtime="python3.12", architecture="arm64", out_dir=base / "a", cache_dir=cache_dir
        ),
        arm64_again=build_layer(
            runtime="python3.12", architecture="arm64", out_dir=base / "b", cache_dir=cache_dir
        ),
        x86_64=build_layer(
            runtime="python3.12", architecture="x86_64", out_dir=base / "a", cache_dir=cache_dir
        ),
    )
