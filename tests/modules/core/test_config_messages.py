"""The whole text of each refusal load_config/parse_config can give before validation: the file,
the count, the one line per problem. (Pinned literally: these lines are the user interface.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.core.config import ConfigError, load_config

MiB = 1024 * 1024
ONE = "1 problem in the configuration:\n  - "


def _refusal(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.source == str(path)
    return raised.value


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "latin1.yaml",
            b"name: caf\xe9\n",
            "cannot read the file: 'utf-8' codec can't decode byte 0xe9 in position 9: "
            "invalid continuation byte",
        ),
        ("big.yaml", b"#" * MiB + b"\n", "the file is larger than 1024 KiB; is it the config?"),
        # exactly 1 MiB is read (and then refused for what it holds)
        (
            "exact.yaml",
            b"#" * (MiB - 1) + b"\n",
            "(top level): expected a mapping with an 'environments' list",
        ),
        (
            "syntax.yaml",
            b"environments: [1, 2\n",
            "not valid YAML: line 2, column 1: while parsing a flow sequence expected ',' or "
            "']', but got '<stream end>'",
        ),
        (
            "digits.yaml",
            b"environments: " + b"9" * 5000 + b"\n",
            "a number has thousands of digits; no setting takes such a value",
        ),
        ("list.yaml", b"- a\n", "(top level): expected a mapping with an 'environments' list"),
        (
            "dup.yaml",
            b"environments: []\nenvironments: []\n",
            "not valid YAML: line 2, column 1: duplicate key 'environments': each key may "
            "appear once; merge the two entries",
        ),
        (
            "intkey.yaml",
            b"environments:\n  - tags: {'a': x, 5: y}\n",  # '5' is the 20th character
            "not valid YAML: line 2, column 20: key '5' is a int, not text: quote it",
        ),
        (
            "deep.yaml",
            b"a: " + b"[" * 40 + b"]" * 40 + b"\n",
            "line 1, column 35: nested more than 32 levels deep; the configuration is about six "
            "levels deep: check the indentation and brackets",
        ),
    ],
)
def test_each_refusal_before_validation_says_file_count_and_problem(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    error = _refusal(path)
    assert str(error) == f"{path}: {ONE}{problem}"
    assert error.problems == (problem,)


def test_a_missing_file_and_a_directory(tmp_path: Path) -> None:
    missing = _refusal(tmp_path / "missing.yaml")
    assert str(missing) == (
        f"{tmp_path / 'missing.yaml'}: {ONE}file not found; pass an existing file with --config"
    )
    directory = _refusal(tmp_path)
    assert str(directory) == (
        f"{tmp_path}: {ONE}cannot read the file: [Errno 21] Is a directory: '{tmp_path}'"
    )
