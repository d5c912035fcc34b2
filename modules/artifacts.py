"""The zips a synth needs, built before the app (constructs never build or read files).

The trigger function's zip and one layer (requests) per (runtime, architecture) used by the
config, built by ``layer_build`` byte-reproducibly into ``build/`` (reused when unchanged). The
layer's wheels are downloaded once per machine into the shared cache (:func:`shared_cache_dir`,
``MLOPS_WHEEL_CACHE`` overrides), checked against the lock's hashes on every use.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from layer_build.build import build_function_zip, build_layer
from modules.aws.trigger_function import ZipArtifact
from modules.core.config import ToolkitConfig
from modules.core.function_source import FUNCTION_ROOT

ROOT = Path(__file__).resolve().parent.parent


def default_build_dir() -> Path:
    """``$MLOPS_BUILD_DIR`` or ``build/`` in the project."""
    return Path(os.environ.get("MLOPS_BUILD_DIR") or ROOT / "build")


def shared_cache_dir() -> Path:
    """The user's cache directory for this toolkit (``$XDG_CACHE_HOME`` or ``~/.cache``), shared
    by every clone: what is kept there is keyed by the hashes of what it was made from."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sagemaker-github-mlops"


@dataclass(frozen=True, kw_only=True)
class BuildArtifacts:
    """Attributes: ``function_zip``; ``layers`` maps (runtime, architecture) to its zip."""

    function_zip: ZipArtifact
    layers: dict[tuple[str, str], ZipArtifact] = field(default_factory=dict)

    def layer(self, runtime: str, architecture: str) -> ZipArtifact:
        try:
            return self.layers[(runtime, architecture)]
        except KeyError:
            raise KeyError(
                f"no layer was built for {runtime}/{architecture}; build_artifacts() builds "
                "the ones the config uses"
            ) from None


def build_artifacts(config: ToolkitConfig, build_dir: Path | None = None) -> BuildArtifacts:
    """Build the function zip and every layer the config needs (cached in ``build_dir``)."""
    out = build_dir or default_build_dir()
    out.mkdir(parents=True, exist_ok=True)
    cache = os.environ.get("MLOPS_WHEEL_CACHE") or str(shared_cache_dir() / "layer-wheels")
    function = build_function_zip(src_dir=FUNCTION_ROOT, out_path=out / "trigger-function.zip")
    layers: dict[tuple[str, str], ZipArtifact] = {}
    wanted = sorted(
        {
            (env.platform.trigger_lambda.runtime, env.platform.trigger_lambda.architecture)
            for env in config.environments
        }
    )
    for runtime, architecture in wanted:
        print(f">> trigger layer (requests) for {runtime}/{architecture}", file=sys.stderr)
        built = build_layer(
            runtime=runtime,
            architecture=architecture,
            out_dir=out,
            cache_dir=Path(cache) if cache else None,
        )
        layers[(runtime, architecture)] = ZipArtifact(
            path=built.path, base64_sha256=built.base64_sha256
        )
    return BuildArtifacts(
        function_zip=ZipArtifact(path=function.path, base64_sha256=function.base64_sha256),
        layers=layers,
    )
