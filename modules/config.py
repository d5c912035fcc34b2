"""The public import path of the configuration models: ``from modules.config import ...``.

The models live in :mod:`modules.core.config` (split into backends, platform, projects,
environments and loading); this module only re-exports them.
"""

from modules.core.config import (
    DEFAULT_CONFIG_PATH,
    Backend,
    CloudBackend,
    ConfigChoice,
    ConfigError,
    Environment,
    GitHubRepository,
    LambdaSettings,
    LocalBackend,
    Platform,
    ProductSettings,
    Project,
    Reviewers,
    S3Backend,
    TokenSecret,
    ToolkitConfig,
    choose_config,
    load_config,
    parse_config,
    write_record,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "Backend",
    "CloudBackend",
    "ConfigChoice",
    "ConfigError",
    "Environment",
    "GitHubRepository",
    "LambdaSettings",
    "LocalBackend",
    "Platform",
    "ProductSettings",
    "Project",
    "Reviewers",
    "S3Backend",
    "TokenSecret",
    "ToolkitConfig",
    "choose_config",
    "load_config",
    "parse_config",
    "write_record",
]
