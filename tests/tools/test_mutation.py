"""``make mutation``'s report (tools/gates/mutation.py) on recorded results: mutmut 3 keeps one
``<source>.meta`` JSON per mutated file with an exit code per mutant (None: not run yet)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.gates import mutation


def _meta(root: Path, source: str, codes: dict[str, int | None]) -> None:
    path = root / f"{source}.meta"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")


@pytest.mark.parametrize(
    ("code", "state"),
    [
        (1, "killed"),
        (3, "killed"),
        (0, "survived"),
        (33, "no tests"),
        (5, "no tests"),
        (36, "timeout"),
        (-24, "timeout"),
        (34, "skipped"),
        (37, "caught by type check"),
        (None, "not checked"),
        (2, "suspicious"),
    ],
)
def test_exit_codes_map_to_mutmuts_states(code: int | None, state: str) -> None:
    assert mutation.status(code) == state


def test_report_counts_each_tree_and_every_unkilled_mutant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no pyproject.toml here: nothing is left out
    mutants = tmp_path / "mutants"
    _meta(mutants, "modules/core/naming.py", {"n_1": 1, "n_2": 1, "n_3": 0, "n_4": 36})
    _meta(mutants, "lambda_src/handler.py", {"h_1": 1, "h_2": 33, "h_3": None})
    code = mutation.main(["report", "--mutants", str(mutants), "--fail-under", "60"])
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "  h_2: no tests",
        "  h_3: not checked",
        "  n_3: survived",
        "mutation: 3 killed, 1 no tests, 1 not checked, 1 survived, 1 timeout",
        "  modules/core/: 3/4 = 75.0%",
        "  lambda_src/: 1/3 = 33.3%",
        "mutation kill ratio: 4/7 = 57.1% (killed or timed out / all mutants)",
    ]
    assert code == 1  # 57.1% is under --fail-under 60
    assert mutation.main(["report", "--mutants", str(mutants), "--fail-under", "57"]) == 0


def test_run_takes_its_options_before_the_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make mutation MUTANTS=... MUTATION_CHILDREN=2` passes the option before the patterns."""
    calls: list[tuple[list[str], int]] = []
    monkeypatch.setattr(mutation, "run", lambda p, c: calls.append((list(p), c)) or 7)
    assert mutation.main(["run", "--children", "2", "lambda_src.*", "modules.core.*"]) == 7
    assert calls == [(["lambda_src.*", "modules.core.*"], 2)]
