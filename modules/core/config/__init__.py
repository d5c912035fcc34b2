"""The toolkit's configuration: one YAML file, validated once into frozen models.

No cdktf here: the config is checked (and a bad one rejected) before any construct exists, so a
wrong field never leaves a half-written ``cdktf.out/`` behind. Every validation message names
the field (a path such as ``environments[0].projects[1].name``), what was given and the fix.

``base`` (patterns, error type) ← ``backends``, ``platform``, ``projects`` ←
``environments`` (an environment and the whole file) ← ``loading`` (YAML in, a
``ToolkitConfig`` or a ``ConfigError`` out).
"""

from modules.core.config.backends import Backend, CloudBackend, LocalBackend, S3Backend
from modules.core.config.base import DEFAULT_CONFIG_PATH, ConfigError
from modules.core.config.environments import Environment, ToolkitConfig
from modules.core.config.loading import load_config, parse_config
from modules.core.config.platform import (
    GitHubApp,
    LambdaSettings,
    Platform,
    ProductSettings,
    TokenSecret,
)
from modules.core.config.projects import GitHubRepository, Project, Reviewers
from modules.core.config.promotion import (
    Autoscaling,
    DataCapture,
    EndpointSettings,
    Promotion,
    Serverless,
    StageAccount,
    StageEndpoints,
)
from modules.core.config.selection import ConfigChoice, choose_config, write_record

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "Autoscaling",
    "Backend",
    "CloudBackend",
    "ConfigChoice",
    "ConfigError",
    "DataCapture",
    "EndpointSettings",
    "Environment",
    "GitHubApp",
    "GitHubRepository",
    "LambdaSettings",
    "LocalBackend",
    "Platform",
    "ProductSettings",
    "Project",
    "Promotion",
    "Reviewers",
    "S3Backend",
    "Serverless",
    "StageAccount",
    "StageEndpoints",
    "TokenSecret",
    "ToolkitConfig",
    "choose_config",
    "load_config",
    "parse_config",
    "write_record",
]
