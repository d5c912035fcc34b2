"""Which config file a synth uses, and the record that makes the choice stick.

One rule, in this order (the first that applies wins):

1. ``--config PATH`` (``make synth CONFIG=PATH``): an explicit choice on the command line;
2. ``MLOPS_CONFIG``: an environment variable with a name no CI system sets by accident;
3. the config recorded in ``<outdir>/synthesized-from.json`` by the last successful synth, so
   ``make diff``/``deploy``/``validate``/``drift`` and the ``cdktf`` CLI (whose app command in
   ``cdktf.json`` has no ``--config``) keep using what the user synthesized (when that was the
   example and ``mlops.yaml`` has appeared since, the run stops and says how to switch; when it
   was another config and ``mlops.yaml`` exists, every run says in one line that it is unused);
4. ``mlops.yaml`` in the project directory, when present;
5. ``config/example.yaml``.

Only an explicit choice (1) may replace output that another config produced. ``MLOPS_CONFIG``
naming a different file than the record is refused (exit 2) with the command that switches, so
no later target ever re-synthesizes a different config over existing output silently; the
``cdktf`` CLI would otherwise delete the stack directories the other config does not produce.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from modules.core.config.base import DEFAULT_CONFIG_PATH, ConfigError

PROJECT_DIR = DEFAULT_CONFIG_PATH.parents[1]
#: The project-local config that is the default when present.
PROJECT_CONFIG = PROJECT_DIR / "mlops.yaml"
#: The file in the output directory that names the config which produced it.
RECORD_NAME = "synthesized-from.json"
ENV_VAR = "MLOPS_CONFIG"

Source = Literal["--config", "MLOPS_CONFIG", "recorded", "mlops.yaml", "example"]

_EXPLAIN: dict[Source, str] = {
    "--config": "given on the command line",
    "MLOPS_CONFIG": "from MLOPS_CONFIG",
    "recorded": "remembered from the last synth",
    "mlops.yaml": "the project's mlops.yaml",
    "example": "the example; add mlops.yaml or pass CONFIG= to use your own",
}


@dataclass(frozen=True, kw_only=True)
class ConfigChoice:
    """The config a run uses (``path``), why (``source``) and what the output was made from
    before (``previous``: the recorded config, or None)."""

    path: Path
    source: Source
    previous: Path | None = None
    #: The project's mlops.yaml when this run does not use it because another config is
    #: remembered (announced by :attr:`notice` on every run, never passed over silently).
    passed_over: Path | None = None

    @property
    def notice(self) -> str | None:
        """One line announcing a passed-over mlops.yaml, with the command that switches."""
        if self.passed_over is None:
            return None
        return (
            f"note: {self.passed_over.name} is not used: the output remembers "
            f"{display_path(self.path)}; to switch, run `make synth CONFIG="
            f"{self.passed_over.name}` once"
        )

    @property
    def explanation(self) -> str:
        return _EXPLAIN[self.source]

    @property
    def is_example(self) -> bool:
        """Whether the config is the toolkit's own example (config/example.yaml)."""
        return self.source == "example" or same_file(self.path, DEFAULT_CONFIG_PATH)

    @property
    def switches(self) -> bool:
        """Whether this run replaces output that a different config produced."""
        return self.previous is not None and not same_file(self.previous, self.path)


def same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def record_path(outdir: Path) -> Path:
    return outdir / RECORD_NAME


def read_record(outdir: Path) -> Path | None:
    """The config recorded in ``outdir``, as a path usable from the current directory."""
    path = record_path(outdir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        # no record; an --outdir that is a file is reported by synth (check_outdir)
        return None
    except (OSError, ValueError) as e:
        raise ConfigError(
            str(path), [f"cannot read the record of the last synth ({e}); delete the file"]
        ) from None
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, str) or not config:
        raise ConfigError(str(path), ["'config' is missing; delete the file and synth again"])
    # Relative to the output directory (see write_record), or absolute.
    return Path(os.path.normpath(outdir / config))


def write_record(outdir: Path, config_path: Path) -> Path:
    """Record ``config_path`` as the config that produced ``outdir`` (written atomically).

    A config inside the project (the output directory's parent) is recorded relative to the
    output, so committed output stays byte-identical across checkouts; one elsewhere is
    recorded as its absolute path (it is machine-specific anyway). Terraform never reads this.
    """
    config = config_path.resolve()
    if config.is_relative_to(outdir.resolve().parent):
        stored = Path(os.path.relpath(config, outdir.resolve())).as_posix()
    else:
        stored = str(config)
    text = json.dumps({"config": stored}, indent=2) + "\n"
    path = record_path(outdir)
    tmp = path.with_name(f".{RECORD_NAME}.tmp")
    tmp.write_bytes(text.encode())  # ASCII: json.dumps escapes anything else
    tmp.replace(path)
    return path


def choose_config(
    *,
    explicit: str | None,
    environ: Mapping[str, str],
    outdir: Path,
    project_config: Path = PROJECT_CONFIG,
    example_config: Path = DEFAULT_CONFIG_PATH,
) -> ConfigChoice:
    """Apply the rule in this module's docstring; raise ConfigError when it refuses.

    ``project_config``/``example_config``: steps 4 and 5 (default: the project's ``mlops.yaml``
    and ``config/example.yaml``).
    """
    previous = read_record(outdir)
    if explicit:
        return ConfigChoice(path=Path(explicit), source="--config", previous=previous)
    from_env = environ.get(ENV_VAR, "").strip()
    if from_env:
        chosen = Path(from_env)
        if previous is not None and not same_file(previous, chosen):
            raise ConfigError(
                f"{ENV_VAR}={from_env}",
                [
                    f"{outdir}/ was synthesized from {previous}, and this run would replace it "
                    f"with another config; to switch, run `make synth CONFIG={from_env}` "
                    f"(or `python main.py --config {from_env}`); to keep {previous}, unset "
                    f"{ENV_VAR}"
                ],
            )
        return ConfigChoice(path=chosen, source="MLOPS_CONFIG", previous=previous)
    if previous is not None:
        if not previous.is_file():
            raise ConfigError(
                str(previous),
                [
                    f"{outdir}/ was synthesized from this file and it no longer exists; "
                    "restore it, or choose a config: `make synth CONFIG=path`"
                ],
            )
        if same_file(previous, example_config) and project_config.is_file():
            # The output is the example's, and the user has since written mlops.yaml: neither
            # keep synthesizing the example quietly nor replace the output unasked.
            raise ConfigError(
                str(project_config),
                [
                    f"{outdir}/ was synthesized from the example ({previous}); to use "
                    f"{project_config.name} from now on, run `make synth CONFIG="
                    f"{project_config.name}` once (or `make clean`)"
                ],
            )
        passed_over = None
        if project_config.is_file() and not same_file(previous, project_config):
            passed_over = project_config
        return ConfigChoice(
            path=previous, source="recorded", previous=previous, passed_over=passed_over
        )
    if project_config.is_file():
        return ConfigChoice(path=project_config, source="mlops.yaml")
    return ConfigChoice(path=example_config, source="example")


def synthesized_stacks(outdir: Path) -> set[str]:
    """The stack names that have a ``cdk.tf.json`` in ``outdir``."""
    stacks = outdir / "stacks"
    if not stacks.is_dir():
        return set()
    return {p.name for p in stacks.iterdir() if (p / "cdk.tf.json").is_file()}


def check_replaces(choice: ConfigChoice, stack_names: set[str], outdir: Path) -> None:
    """Refuse to silently remove stacks that output without a record holds.

    Output written before synths were recorded (or whose record was deleted) names no config;
    unless the choice is explicit, a config that lacks any of its stacks is refused, because the
    synth (and the ``cdktf`` CLI) would delete those stacks' generated files.
    """
    if choice.source == "--config" or choice.previous is not None:
        return
    missing = sorted(synthesized_stacks(outdir) - stack_names)
    if missing:
        raise ConfigError(
            str(choice.path),
            [
                f"{outdir}/ holds stack(s) {', '.join(missing)} that this config "
                f"({choice.explanation}) does not have, and no {RECORD_NAME} says which "
                "config made them; run `make synth CONFIG=<the config you deploy>` once to choose"
            ],
        )


def display_path(path: Path) -> str:
    """``path`` relative to the current directory when it is below it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
