"""GitHub Actions workflows the toolkit commits to each ML repository, rendered as YAML text.

Two files per project and toolkit environment (see ``workflow_paths``):

* ``build-<environment>.yml`` runs the project's SageMaker pipeline
  (``python -m pipelines.run_pipeline``) on a push to the configured branch that touches the
  pipeline code, and on manual dispatch.
* ``deploy-<environment>.yml`` is dispatched (by the trigger Lambda, or by hand) with a
  ``model_package_arn`` input and deploys that package to the staging endpoint, then, behind
  the production environment's reviewers, to the production endpoint
  (``python -m deploy.deploy``).

Where credentials come from: the build job reads repository-level names that carry the
toolkit environment (``<build_settings_prefix>BUILD_ROLE_ARN`` ..., so two stacks building one
repository from different branches never share a name); with access keys it runs in its own
GitHub environment (``build_environment``) and reads the key pair from there; each deploy job
reads the
environment-scoped ``AWS_DEPLOY_ROLE_ARN`` (or key pair) and ``SAGEMAKER_PIPELINE_ROLE_ARN`` of
the GitHub environment it runs in, so production credentials reach only the production job.

The rendering is pure Python (no cdktf import) and deterministic: equal ``WorkflowParams`` give
byte-identical text, LF line endings and a final newline, so ``github_repository_file`` shows no
drift between plans. Every third-party action is pinned by commit SHA (table ``ACTION_PINS``), every
job gets the least ``permissions:`` it needs, and untrusted input reaches ``run:`` scripts only
through ``env:``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, Literal

import yaml

from modules.core.aws_facts import partition_pattern

__all__ = [
    "ACTION_PINS",
    "MODEL_PACKAGE_ARN_PATTERN",
    "ActionPin",
    "StageDeploy",
    "WorkflowParams",
    "WorkflowParamsError",
    "deploy_workflow_path",
    "render_build_workflow",
    "render_deploy_workflow",
    "workflow_paths",
]

WORKFLOW_DIRECTORY: Final = ".github/workflows"


def workflow_paths(environment_name: str) -> dict[str, str]:
    """The managed workflow files of one toolkit environment: ``build-<env>.yml`` and
    ``deploy-<env>.yml``, one rule for every environment.

    The file names carry the environment, so two environments building one repository from
    different branches (``dev`` from ``main``, ``prod`` from ``release``) own different files: a
    merge between the branches carries the other environment's files along, but they trigger
    only on their own branch and no stack ever rewrites the other's. The trigger dispatches the
    environment's own ``deploy-<env>.yml`` (product template parameter
    ``GitHubWorkflowNameForDeployment``).
    """
    return {
        kind: f"{WORKFLOW_DIRECTORY}/{kind}-{environment_name}.yml" for kind in ("build", "deploy")
    }


def deploy_workflow_path(environment_name: str) -> str:
    """The workflow file the trigger dispatches for this environment."""
    return workflow_paths(environment_name)["deploy"]


AuthMode = Literal["oidc", "access_keys"]


@dataclass(frozen=True, kw_only=True)
class ActionPin:
    """One action pinned to the commit of a release tag (the tag is written as a YAML comment)."""

    repository: str
    commit_sha: str
    version: str

    @property
    def uses(self) -> str:
        """Value of a step's ``uses:`` key."""
        return f"{self.repository}@{self.commit_sha}"


# The one table of action pins. Each SHA is the commit the release tag points to, read from the
# action's own repository (`git rev-parse <tag>^{commit}`); the major tag (v7, v7, v6) pointed to
# the same commit.
# To update: fetch the repository, rev-parse the new tag, change SHA and version together.
ACTION_PINS: Final[dict[str, ActionPin]] = {
    "checkout": ActionPin(
        repository="actions/checkout",
        commit_sha="3d3c42e5aac5ba805825da76410c181273ba90b1",
        version="v7.0.1",
    ),
    "setup-python": ActionPin(
        repository="actions/setup-python",
        commit_sha="5fda3b95a4ea91299a34e894583c3862153e4b97",
        version="v7.0.0",
    ),
    "configure-aws-credentials": ActionPin(
        repository="aws-actions/configure-aws-credentials",
        commit_sha="e6de054238d6b7531b4efff3b6587d9aade6a06c",
        version="v6.2.3",
    ),
}

# What deploy.yml accepts as `model_package_arn` (bash ERE, also valid Python `re`): a versioned
# model package of a partition the toolkit deploys into (modules.core.aws_facts). Group name
# rule from the SageMaker API reference.
MODEL_PACKAGE_ARN_PATTERN: Final[str] = (
    rf"^arn:({partition_pattern()}):sagemaker:[a-z0-9-]+:[0-9]{{12}}:"
    r"model-package/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}/[0-9]+$"
)

_HEADER: Final[str] = (
    "# Managed by the SageMaker MLOps toolkit (sagemaker-github-mlops): do not edit here.\n"
    "# Local edits are reverted by the next plan; change the toolkit's configuration instead.\n"
)

# Job permissions and the comment written next to each (job keys are indented by six spaces).
_PERMISSION_REASONS: Final[dict[str, str]] = {
    "contents: read": "check out the repository",
    "id-token: write": "exchange the job's OIDC token for the AWS role's credentials",
}

_TOOLKIT_ENVIRONMENT_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
_PROJECT_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
# git's ref-name rules as the config applies them (control characters, space and ~^:?*[\ barred).
_BRANCH_BAD_CHARS_RE = re.compile(r"[\x00-\x20~^:?*\[\\\x7f]")
# Characters of GitHub's filter-pattern syntax that may still occur in a valid branch name.
_FILTER_SPECIALS_RE = re.compile(r"([+!])")
_ENVIRONMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
_PYTHON_VERSION_RE = re.compile(r"^3\.[0-9]{1,2}$")
_PATH_PATTERN_RE = re.compile(r"^[A-Za-z0-9._*/-]+$")
# GitHub variable/secret names: letters, digits, underscores, not starting with GITHUB_.
_SETTINGS_PREFIX_RE = re.compile(r"^(?!GITHUB_)[A-Z_][A-Z0-9_]*_$")
_RUNNER_LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_MAX_JOB_MINUTES = 360  # the longest a job may run on a GitHub-hosted runner


class WorkflowParamsError(ValueError):
    """A ``WorkflowParams`` field holds a value that cannot be rendered safely."""


_INSTANCE_TYPE_RE = re.compile(r"^ml\.[a-z0-9-]+\.[a-z0-9-]+$")
_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
_CAPTURE_PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*()-][A-Za-z0-9!_.*()/-]{0,255}$")


@dataclass(frozen=True, kw_only=True)
class StageDeploy:
    """How one stage's deploy job differs from the defaults (one ml.m5.large in this account).

    Every field is optional; an empty ``StageDeploy`` renders nothing, so a stage without
    settings keeps the plain command.
    """

    registry_account_id: str | None = None
    """The home account of the model registry, when the stage deploys in another account: the
    job refuses package ARNs of any other account and ``deploy.py`` reads the group from the
    ARN instead of describing the project. Default: same account."""
    role_duration_seconds: int | None = None
    """``role-duration-seconds`` of the stage's credentials. Default: the action's (1 hour)."""
    instance_type: str | None = None
    instance_count: int | None = None
    min_instances: int | None = None
    max_instances: int | None = None
    target_invocations: int | None = None
    capture_percent: int | None = None
    capture_prefix: str | None = None
    capture_bucket_variable: bool = False
    """Whether the capture bucket comes from the environment variable ``DATA_CAPTURE_BUCKET``
    (a stage account's bucket). Default: the project bucket (home account)."""
    serverless_memory_mb: int | None = None
    serverless_max_concurrency: int | None = None

    def __post_init__(self) -> None:
        if self.registry_account_id is not None:
            _check("registry_account_id", self.registry_account_id, _ACCOUNT_RE, "an account id")
        if self.instance_type is not None:
            _check("instance_type", self.instance_type, _INSTANCE_TYPE_RE, "ml.<family>.<size>")
        if self.capture_prefix is not None:
            _check("capture_prefix", self.capture_prefix, _CAPTURE_PREFIX_RE, "an S3 key prefix")
        for name in (
            "role_duration_seconds",
            "instance_count",
            "min_instances",
            "max_instances",
            "target_invocations",
            "capture_percent",
            "serverless_memory_mb",
            "serverless_max_concurrency",
        ):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise WorkflowParamsError(f"{name}: expected a non-negative integer, got {value!r}")

    def arguments(self) -> str:
        """Extra ``deploy.deploy`` arguments (literal integers and checked names only)."""
        pairs: list[tuple[str, object]] = [
            ("--registry-account", self.registry_account_id),
            ("--instance-type", self.instance_type),
            ("--instance-count", self.instance_count),
            ("--min-instances", self.min_instances),
            ("--max-instances", self.max_instances),
            ("--target-invocations", self.target_invocations),
            ("--data-capture-percent", self.capture_percent),
            ("--data-capture-prefix", self.capture_prefix),
            ("--serverless-memory-mb", self.serverless_memory_mb),
            ("--serverless-max-concurrency", self.serverless_max_concurrency),
        ]
        text = "".join(f" {flag} {value}" for flag, value in pairs if value is not None)
        if self.capture_bucket_variable:
            text += ' --data-capture-bucket "$DATA_CAPTURE_BUCKET"'
        return text


@dataclass(frozen=True, kw_only=True)
class WorkflowParams:
    """What the two workflow files of one project are rendered from.

    Values come from the validated config and the project's stack; they are checked again here
    because they are written into YAML and shell contexts.
    """

    environment_name: str
    """The toolkit environment (stack) the files belong to: in the workflow names and their
    concurrency groups, so two environments of one repository never queue behind each other."""
    aws_region: str
    """Region of the project's stack, rendered as the workflow-level ``AWS_REGION``."""
    sagemaker_project_name: str
    """SageMaker project name, rendered as the workflow-level ``SAGEMAKER_PROJECT_NAME``."""
    branch: str
    """Branch whose pushes start a build (the same branch the trigger Lambda dispatches on)."""
    auth_mode: AuthMode
    """``oidc``: assume roles from repository variables; ``access_keys``: repository secrets."""
    staging_environment: str | None = "staging"
    """GitHub environment of the staging job. Default: ``staging``; ``None``: no staging job
    (the deploy goes straight to production, behind its reviewers)."""
    production_environment: str = "production"
    """GitHub environment (with required reviewers) of the production job. Default: production."""
    build_settings_prefix: str = "MLOPS_"
    """Prefix of the repository-level variables/secrets the build job reads
    (``BUILD_ROLE_ARN``, ``PIPELINE_ROLE_ARN``; ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``
    only without ``build_environment``). Default: ``MLOPS_``; the toolkit passes
    ``MLOPS_<ENVIRONMENT>_``."""
    build_environment: str | None = None
    """GitHub environment of the build job (``access_keys`` only): the job reads the key pair
    ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` from that environment's secrets.
    Default: none (``oidc``: the build role's trust pins the branch in the token's ``sub``,
    which a job environment would replace)."""
    python_version: str = "3.12"
    """Python used by both workflows. Default: 3.12."""
    pipeline_paths: tuple[str, ...] = ("pipelines/**",)
    """Path filters of the push trigger. Default: everything under ``pipelines/``."""
    runs_on: str = "ubuntu-latest"
    """Runner label of every job. Default: ubuntu-latest."""
    build_timeout_minutes: int = 360
    """Timeout of the build job (it waits for the pipeline). Default: 360 minutes."""
    deploy_timeout_minutes: int = 90
    """Timeout of each deploy job (endpoint create/update + smoke test). Default: 90 minutes."""
    stage_deploys: tuple[tuple[str, StageDeploy], ...] = ()
    """(stage, settings) of stages whose deploy differs from the defaults (another account,
    endpoint settings). Default: none."""

    def __post_init__(self) -> None:
        _check(
            "environment_name",
            self.environment_name,
            _TOOLKIT_ENVIRONMENT_RE,
            "a toolkit environment name (lowercase letters, digits and hyphens)",
        )
        _check("aws_region", self.aws_region, _REGION_RE, "an AWS region such as eu-west-1")
        _check(
            "sagemaker_project_name",
            self.sagemaker_project_name,
            _PROJECT_NAME_RE,
            "a SageMaker project name (1-32 letters, digits, hyphens; no leading/trailing hyphen)",
        )
        _check_branch(self.branch)
        if self.auth_mode not in ("oidc", "access_keys"):
            raise WorkflowParamsError(
                f"auth_mode: expected 'oidc' or 'access_keys', got {self.auth_mode!r}"
            )
        if self.staging_environment is not None:
            _check(
                "staging_environment",
                self.staging_environment,
                _ENVIRONMENT_RE,
                "an environment name",
            )
        _check(
            "production_environment",
            self.production_environment,
            _ENVIRONMENT_RE,
            "an environment name",
        )
        if self.staging_environment == self.production_environment:
            raise WorkflowParamsError(
                "staging_environment: must differ from production_environment, "
                f"both are {self.production_environment!r}"
            )
        _check(
            "build_settings_prefix",
            self.build_settings_prefix,
            _SETTINGS_PREFIX_RE,
            "upper-case letters, digits and underscores ending in '_', not starting with GITHUB_",
        )
        self._check_build_environment()
        _check("python_version", self.python_version, _PYTHON_VERSION_RE, "a version such as 3.12")
        if not self.pipeline_paths:
            raise WorkflowParamsError("pipeline_paths: expected at least one path filter, got none")
        for path in self.pipeline_paths:
            _check("pipeline_paths", path, _PATH_PATTERN_RE, "a path filter such as pipelines/**")
        _check("runs_on", self.runs_on, _RUNNER_LABEL_RE, "a runner label such as ubuntu-latest")
        for name, minutes in (
            ("build_timeout_minutes", self.build_timeout_minutes),
            ("deploy_timeout_minutes", self.deploy_timeout_minutes),
        ):
            if isinstance(minutes, bool) or not 1 <= minutes <= _MAX_JOB_MINUTES:
                raise WorkflowParamsError(
                    f"{name}: expected an integer from 1 to {_MAX_JOB_MINUTES}, got {minutes!r}"
                )

    def _check_build_environment(self) -> None:
        if self.build_environment is None:
            return
        if self.auth_mode == "oidc":
            raise WorkflowParamsError(
                "build_environment: only with auth_mode 'access_keys'; with 'oidc' a job "
                "environment changes the token's sub claim the build role trusts"
            )
        _check("build_environment", self.build_environment, _ENVIRONMENT_RE, "an environment name")
        if self.build_environment in (self.staging_environment, self.production_environment):
            raise WorkflowParamsError(
                f"build_environment: {self.build_environment!r} is also a deploy environment; "
                "the build must not read a deploy stage's credentials"
            )


def _check(field: str, value: object, pattern: re.Pattern[str], expected: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise WorkflowParamsError(f"{field}: expected {expected}, got {value!r}")


def _check_branch(branch: object) -> None:
    bad = (
        not isinstance(branch, str)
        or not branch
        or branch.startswith(("/", "-", "refs/"))
        or branch.endswith(("/", ".", ".lock"))
        or any(part in branch for part in ("..", "//", "@{"))
        or _BRANCH_BAD_CHARS_RE.search(branch) is not None
    )
    if bad:
        raise WorkflowParamsError(
            f"branch: expected a short git branch name such as main, got {branch!r}"
        )


def _branch_filter(branch: str) -> str:
    """The push trigger's ``branches`` entry matching exactly ``branch`` (specials escaped)."""
    return _FILTER_SPECIALS_RE.sub(r"\\\1", branch)


class _Quoted(str):
    """A string always emitted double-quoted (values that come from configuration)."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    """SafeDumper that quotes config values and writes multi-line scripts as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _represent_quoted(dumper: yaml.SafeDumper, data: _Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style='"')


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Quoted, _represent_quoted)


def _dump(document: dict[str, Any]) -> str:
    body = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=False,
        width=4096,
        indent=2,
        line_break="\n",
    )
    # YAML cannot carry comments through a dump: write each pin's version next to its SHA and say
    # why each job permission is granted.
    for pin in ACTION_PINS.values():
        body = body.replace(f"uses: {pin.uses}\n", f"uses: {pin.uses} # {pin.version}\n")
    for permission, reason in _PERMISSION_REASONS.items():
        body = body.replace(f"\n      {permission}\n", f"\n      {permission} # {reason}\n")
    return _HEADER + body


def _workflow_env(p: WorkflowParams) -> dict[str, Any]:
    return {
        "AWS_REGION": _Quoted(p.aws_region),
        "SAGEMAKER_PROJECT_NAME": _Quoted(p.sagemaker_project_name),
    }


def _job_permissions(p: WorkflowParams) -> dict[str, str]:
    if p.auth_mode == "oidc":
        return {"contents": "read", "id-token": "write"}
    return {"contents": "read"}


def _setup_steps(p: WorkflowParams, requirements: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "Check out the repository",
            "uses": ACTION_PINS["checkout"].uses,
            "with": {"persist-credentials": False},
        },
        {
            "name": "Set up Python",
            "uses": ACTION_PINS["setup-python"].uses,
            "with": {"python-version": _Quoted(p.python_version)},
        },
        {
            "name": "Install dependencies",
            "run": f"python -m pip install --disable-pip-version-check -r {requirements}",
        },
    ]


def _credentials_step(
    p: WorkflowParams, role_variable: str, secret_prefix: str, session_name: str
) -> dict[str, Any]:
    settings: dict[str, Any] = {"aws-region": "${{ env.AWS_REGION }}"}
    if p.auth_mode == "oidc":
        settings["role-to-assume"] = "${{ vars." + role_variable + " }}"
        settings["role-session-name"] = session_name
    else:
        settings["aws-access-key-id"] = "${{ secrets." + secret_prefix + "AWS_ACCESS_KEY_ID }}"
        settings["aws-secret-access-key"] = (
            "${{ secrets." + secret_prefix + "AWS_SECRET_ACCESS_KEY }}"
        )
    return {
        "name": "Configure AWS credentials",
        "uses": ACTION_PINS["configure-aws-credentials"].uses,
        "with": settings,
    }


def render_build_workflow(p: WorkflowParams) -> str:
    """Text of ``.github/workflows/build-<environment>.yml`` for one project."""
    job: dict[str, Any] = {"name": "Run the SageMaker pipeline", "runs-on": _Quoted(p.runs_on)}
    # access keys: the key pair is a secret of the build environment, never repository-wide
    secret_prefix = p.build_settings_prefix
    if p.build_environment is not None:
        job["environment"] = _Quoted(p.build_environment)
        secret_prefix = ""
    document: dict[str, Any] = {
        "name": f"build {p.environment_name}",
        "on": {
            "push": {
                "branches": [_Quoted(_branch_filter(p.branch))],
                "paths": [_Quoted(path) for path in p.pipeline_paths],
            },
            "workflow_dispatch": None,
        },
        "permissions": {},
        "concurrency": {
            "group": _Quoted(f"build-{p.environment_name}-{p.sagemaker_project_name}"),
            "cancel-in-progress": False,
        },
        "env": _workflow_env(p),
        "jobs": {
            "build": {
                **job,
                "timeout-minutes": p.build_timeout_minutes,
                "permissions": _job_permissions(p),
                "steps": [
                    *_setup_steps(p, "pipelines/requirements.txt"),
                    _credentials_step(
                        p,
                        f"{p.build_settings_prefix}BUILD_ROLE_ARN",
                        secret_prefix,
                        "github-build",
                    ),
                    {
                        "name": "Upsert, start and wait for the SageMaker pipeline",
                        "env": {
                            "SAGEMAKER_PIPELINE_ROLE_ARN": "${{ vars."
                            + p.build_settings_prefix
                            + "PIPELINE_ROLE_ARN }}"
                        },
                        "run": (
                            "python -m pipelines.run_pipeline"
                            ' --region "$AWS_REGION"'
                            ' --project-name "$SAGEMAKER_PROJECT_NAME"'
                            ' --role-arn "$SAGEMAKER_PIPELINE_ROLE_ARN"'
                        ),
                    },
                ],
            }
        },
    }
    return _dump(document)


def _validate_arn_step(registry_account_id: str | None = None) -> dict[str, Any]:
    script = (
        f"pattern='{MODEL_PACKAGE_ARN_PATTERN}'\n"
        'if [[ ! "$MODEL_PACKAGE_ARN" =~ $pattern ]]; then\n'
        '  echo "::error::model_package_arn is not a versioned SageMaker model package ARN"\n'
        "  exit 1\n"
        "fi\n"
    )
    if registry_account_id is not None:
        script += (
            f'if [[ "$(cut -d: -f5 <<< "$MODEL_PACKAGE_ARN")" != "{registry_account_id}" ]]; then\n'
            f"  echo \"::error::model_package_arn is not a package of the model registry's "
            f'account {registry_account_id}"\n'
            "  exit 1\n"
            "fi\n"
        )
    return {
        "name": "Validate the model package ARN",
        "env": {"MODEL_PACKAGE_ARN": "${{ inputs.model_package_arn }}"},
        "run": script,
    }


def _deploy_job(p: WorkflowParams, stage: str, environment: str) -> dict[str, Any]:
    job: dict[str, Any] = {"name": f"Deploy to {stage}", "runs-on": _Quoted(p.runs_on)}
    if stage == "production" and p.staging_environment is not None:
        job["needs"] = "staging"
    # The stage's credentials are scoped to this environment (never repository-wide).
    job["environment"] = _Quoted(environment)
    job["timeout-minutes"] = p.deploy_timeout_minutes
    job["permissions"] = _job_permissions(p)
    settings = dict(p.stage_deploys).get(stage, StageDeploy())
    credentials = _credentials_step(p, "AWS_DEPLOY_ROLE_ARN", "", f"github-deploy-{stage}")
    if settings.role_duration_seconds is not None:
        credentials["with"]["role-duration-seconds"] = settings.role_duration_seconds
    env = {
        "MODEL_PACKAGE_ARN": "${{ inputs.model_package_arn }}",
        "SAGEMAKER_PIPELINE_ROLE_ARN": "${{ vars.SAGEMAKER_PIPELINE_ROLE_ARN }}",
    }
    if settings.capture_bucket_variable:
        env["DATA_CAPTURE_BUCKET"] = "${{ vars.DATA_CAPTURE_BUCKET }}"
    job["steps"] = [
        _validate_arn_step(settings.registry_account_id),
        *_setup_steps(p, "deploy/requirements.txt"),
        credentials,
        {
            "name": f"Deploy the model package to the {stage} endpoint and smoke-test it",
            "env": env,
            "run": (
                "python -m deploy.deploy"
                ' --region "$AWS_REGION"'
                ' --project-name "$SAGEMAKER_PROJECT_NAME"'
                ' --role-arn "$SAGEMAKER_PIPELINE_ROLE_ARN"'
                ' --model-package-arn "$MODEL_PACKAGE_ARN"'
                f" --stage {stage}" + settings.arguments()
            ),
        },
    ]
    return job


def render_deploy_workflow(p: WorkflowParams) -> str:
    """Text of ``.github/workflows/deploy-<environment>.yml`` for one project."""
    document: dict[str, Any] = {
        "name": f"deploy {p.environment_name}",
        "run-name": "deploy ${{ inputs.model_package_arn }}",
        "on": {
            "workflow_dispatch": {
                "inputs": {
                    "model_package_arn": {
                        "description": "ARN of the approved model package version to deploy",
                        "required": True,
                        "type": "string",
                    }
                }
            }
        },
        "permissions": {},
        "concurrency": {
            "group": _Quoted(f"deploy-{p.environment_name}-{p.sagemaker_project_name}"),
            "cancel-in-progress": False,
        },
        "env": _workflow_env(p),
        "jobs": {
            **(
                {"staging": _deploy_job(p, "staging", p.staging_environment)}
                if p.staging_environment is not None
                else {}
            ),
            "production": _deploy_job(p, "production", p.production_environment),
        },
    }
    return _dump(document)
