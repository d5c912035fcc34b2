"""Fuzz `main.py` with generated YAML documents: exit 2 (or 0), never 1, never a traceback, and
one line per problem.

Most cases call ``main.main([...])`` in this process (a refused config never loads cdktf, so
each case takes milliseconds); a few known-hostile files also run as `python main.py`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import main
from modules.core.config.base import MAX_LISTED_PROBLEMS
from tests.conftest import EXAMPLE_CONFIG, ROOT
from tests.modules.core.test_config_input import BILLION_LAUGHS

EXAMPLE_LINES = EXAMPLE_CONFIG.read_text(encoding="utf-8").splitlines()
# Keys of the config, so generated mappings often look like the real thing.
KEYS = (
    "environments",
    "name",
    "account_id",
    "region",
    "backend",
    "type",
    "bucket",
    "key",
    "tags",
    "platform",
    "projects",
    "github",
    "owner",
    "repository",
    "branch",
    "production_reviewers",
    "users",
    "teams",
    "token_secret",
    "version",
    "lambda",
    "product",
    "studio_execution_role_arns",
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["local", "s3", "cloud", "oidc", "eu-west-1", "111111111111", "${x}"])
)
DATA = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)
# Raw YAML that a data structure cannot produce: anchors, aliases, tags, merge keys, flow
# collections, non-text keys, directives, tabs, deep brackets, broken quoting.
YAML_BITS = (
    "&a ",
    "*a",
    "<<: *a",
    "!!python/object:os.system ",
    "!!binary ",
    "!!set ",
    "!custom ",
    "? [1]\n: 2",
    "{[1]: 2}",
    "2024-01-01: x",
    "on: off",
    "- ",
    ": ",
    "[",
    "]",
    "{",
    "}",
    "\t",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    '"',
    "'",
    "\\",
    "#",
    "|",
    ">",
    "\x00",
    "\ufeff",
    "[" * 40,
    "9" * 5000,
    ".nan",
    "~",
    "\n",
    "  ",
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["data", "environments", "mutated", "raw"]))
    if kind == "data":
        return yaml.safe_dump(draw(DATA), allow_unicode=True)
    if kind == "environments":
        envs = draw(st.lists(DATA, max_size=3))
        return yaml.safe_dump({"environments": envs}, allow_unicode=True)
    if kind == "mutated":
        lines = list(EXAMPLE_LINES)
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            column = draw(st.integers(min_value=0, max_value=len(lines[at])))
            bit = draw(st.sampled_from(YAML_BITS) | st.text(max_size=4))
            if draw(st.booleans()):
                lines[at] = lines[at][:column] + bit + lines[at][column:]
            else:
                lines[at] = lines[at][:column] + bit
        return "\n".join(lines) + "\n"
    return "".join(draw(st.lists(st.sampled_from(YAML_BITS) | st.text(max_size=5), max_size=8)))


def check_output(rc: int, err: str, outdir: Path) -> None:
    assert rc in (0, 2), f"exit {rc}:\n{err}"
    assert "Traceback" not in err
    if rc == 2:
        head, *lines = err.rstrip("\n").split("\n")
        m = re.fullmatch(r"error: .*?: (\d+) problems? in the configuration:", head)
        assert m, head
        total = int(m.group(1))
        if total > MAX_LISTED_PROBLEMS:
            assert lines.pop() == (
                f"  ... and {total - MAX_LISTED_PROBLEMS} more (fix the ones above and run "
                "again to see them)"
            )
        assert len(lines) == min(total, MAX_LISTED_PROBLEMS), err
        assert all(line.startswith("  - ") and line[4:].strip() for line in lines), err
        assert not outdir.exists()


@settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=documents())
def test_generated_documents_exit_2_without_traceback(
    text: str, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path_factory.mktemp("fuzz")
    config = base / "config.yaml"
    config.write_text(text, encoding="utf-8", errors="surrogatepass")
    outdir = base / "cdktf.out"
    capsys.readouterr()
    rc = main.main(["--config", str(config), "--outdir", str(outdir)])
    check_output(rc, capsys.readouterr().err, outdir)


@pytest.mark.parametrize(
    "text",
    [
        BILLION_LAUGHS,
        "environments: &x [*x]\n",
        "[" * 5000 + "]" * 5000 + "\n",
        "{[1]: 2}\n",
        "environments: " + "9" * 5000 + "\n",
        "\x00\x01",
    ],
    ids=["alias-bomb", "recursive-alias", "deep", "list-key", "huge-int", "binary"],
)
def test_hostile_files_exit_2_in_a_fresh_process(tmp_path: Path, text: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--config", str(config), "--outdir", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    check_output(result.returncode, result.stderr, tmp_path / "out")


def test_fails_on_outdir_that_is_a_file_before_synthesizing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "cdktf.out"
    target.write_text("not a directory", encoding="utf-8")
    rc = main.main(["--config", str(EXAMPLE_CONFIG), "--outdir", str(target)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err == (
        f"error: --outdir {target}: {target} is a file, not a directory; pass a directory "
        "(e.g. --outdir cdktf.out) or move the file\n"
    )
    assert target.read_text(encoding="utf-8") == "not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_fails_on_stack_dir_that_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out" / "stacks").mkdir(parents=True)
    (tmp_path / "out" / "stacks" / "dev").write_text("x", encoding="utf-8")
    rc = main.main(["--config", str(EXAMPLE_CONFIG), "--outdir", str(tmp_path / "out")])
    assert rc == 2
    assert "stacks/dev is a file, not a directory" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["stacks"]


def test_fails_on_generated_file_path_that_is_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out" / "manifest.json").mkdir(parents=True)
    rc = main.main(["--config", str(EXAMPLE_CONFIG), "--outdir", str(tmp_path / "out")])
    assert rc == 2
    assert capsys.readouterr().err == (
        f"error: --outdir {tmp_path / 'out'}: {tmp_path / 'out' / 'manifest.json'} is a "
        "directory; remove it\n"
    )
