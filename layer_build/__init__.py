"""Reproducible packaging of the trigger Lambda: its layer (requests) and its function zip.

``build_layer`` turns the hash-locked ``requirements.lock`` into a layer zip for one Lambda
runtime and architecture; ``build_function_zip`` packs ``lambda_src/``. Both write
byte-identical zips for identical inputs and return an ``Artifact`` whose ``base64_sha256`` is
what Terraform's ``source_code_hash`` compares. CLI: ``python -m layer_build --help``.
"""

from layer_build.build import LOCK_PATH, LayerBuildError, build_function_zip, build_layer
from layer_build.deterministic_zip import Artifact, UnsafeArchivePathError
from layer_build.targets import (
    DEFAULT_ARCHITECTURE,
    SUPPORTED_ARCHITECTURES,
    SUPPORTED_RUNTIMES,
    UnsupportedTargetError,
)

__all__ = [
    "DEFAULT_ARCHITECTURE",
    "LOCK_PATH",
    "SUPPORTED_ARCHITECTURES",
    "SUPPORTED_RUNTIMES",
    "Artifact",
    "LayerBuildError",
    "UnsafeArchivePathError",
    "UnsupportedTargetError",
    "build_function_zip",
    "build_layer",
]
