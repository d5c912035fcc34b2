"""The data-preparation and evaluation scripts, run locally on a small synthetic abalone dataset.

Only numpy is needed: the scripts' xgboost part (loading the trained booster) is replaced by a
least-squares model fitted here; the archive handling around it is tested on its own.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from modules.render.seed.pipelines.definition import GATE_METRIC_PATH
from modules.render.seed.pipelines.sample_data import COLUMNS, generate_csv, generate_rows

SCRIPTS = (
    Path(__file__).resolve().parents[5] / "modules" / "render" / "seed" / "pipelines" / "scripts"
)


def _load_script(name: str) -> ModuleType:
    """Import a script by path under a unique module name (it is not a package module)."""
    spec = importlib.util.spec_from_file_location(f"seed_pipeline_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


preprocess = _load_script("preprocess")
evaluate = _load_script("evaluate")


@pytest.fixture
def input_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "abalone.csv").write_text(generate_csv(400, seed=3), encoding="utf-8")
    return folder


def _prepared(tmp_path: Path, input_dir: Path) -> tuple[dict[str, int], Path]:
    out = tmp_path / "out"
    return preprocess.run(input_dir, out, seed=42), out


def test_sample_data_has_the_abalone_schema_and_is_deterministic() -> None:
    assert COLUMNS == preprocess.COLUMNS
    rows = generate_rows(50, seed=1)
    assert rows == generate_rows(50, seed=1)
    assert rows != generate_rows(50, seed=2)
    assert all(len(r) == 9 and r[0] in {"M", "F", "I"} and int(r[8]) >= 1 for r in rows)


def test_preprocess_splits_70_15_15_label_first(tmp_path: Path, input_dir: Path) -> None:
    counts, out = _prepared(tmp_path, input_dir)
    assert counts == {"train": 280, "validation": 60, "test": 60}
    data = {n: np.loadtxt(out / n / f"{n}.csv", delimiter=",", ndmin=2) for n in counts}
    assert all(a.shape[1] == 1 + 7 + 3 for a in data.values())
    assert not any(np.isnan(a).any() for a in data.values())
    labels = np.concatenate([a[:, 0] for a in data.values()])
    source = [float(r[8]) for r in generate_rows(400, seed=3)]
    assert sorted(labels.tolist()) == sorted(source)  # every row lands in exactly one split


def test_preprocess_scales_on_train_and_one_hot_encodes_sex(
    tmp_path: Path, input_dir: Path
) -> None:
    _, out = _prepared(tmp_path, input_dir)
    train = np.loadtxt(out / "train" / "train.csv", delimiter=",")
    np.testing.assert_allclose(train[:, 1:8].mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(train[:, 1:8].std(axis=0), 1.0, atol=1e-6)
    one_hot = train[:, 8:]
    assert set(np.unique(one_hot).tolist()) == {0.0, 1.0}
    assert (one_hot.sum(axis=1) == 1).all()


def test_preprocess_is_deterministic(tmp_path: Path, input_dir: Path) -> None:
    preprocess.run(input_dir, tmp_path / "a", seed=42)
    preprocess.run(input_dir, tmp_path / "b", seed=42)
    for name in ("train", "validation", "test"):
        first = (tmp_path / "a" / name / f"{name}.csv").read_bytes()
        assert first == (tmp_path / "b" / name / f"{name}.csv").read_bytes()


def test_preprocess_accepts_header_and_missing_values(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    text = generate_csv(40, seed=5, header=True).splitlines()
    text[3] = "F,?,0.3,,0.5,0.2,0.1,0.15,9"  # missing length and height
    text[4] = ",0.4,0.3,0.1,0.5,0.2,0.1,0.15,9"  # missing sex
    text[5] = "M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,"  # missing label: dropped
    (folder / "data.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    counts = preprocess.run(folder, tmp_path / "out", seed=1)
    assert sum(counts.values()) == 39
    merged = np.vstack(
        [
            np.loadtxt(tmp_path / "out" / n / f"{n}.csv", delimiter=",", ndmin=2)
            for n in ("train", "validation", "test")
        ]
    )
    assert not np.isnan(merged).any()
    assert (merged[:, 8:].sum(axis=1) == 0).sum() == 1  # the row without sex


def test_fails_on_wrong_column_count(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad.csv").write_text(generate_csv(30) + "M,0.1,0.2\n", encoding="utf-8")
    with pytest.raises(preprocess.DataError, match=r"bad.csv:31: expected 9 columns"):
        preprocess.run(folder, tmp_path / "out", seed=1)


def test_fails_on_too_few_rows_with_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "tiny.csv").write_text(generate_csv(5), encoding="utf-8")
    status = preprocess.main(["--input-dir", str(folder), "--output-dir", str(tmp_path / "o")])
    assert status == 1
    assert "at least 20 labelled rows, got 5" in capsys.readouterr().err


def test_regression_report_values() -> None:
    report = evaluate.regression_report(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 2, 3, 6]))
    metrics = report["regression_metrics"]
    assert isinstance(metrics, dict)
    assert metrics["mse"]["value"] == pytest.approx(1.0)
    assert metrics["rmse"]["value"] == pytest.approx(1.0)
    assert metrics["mae"]["value"] == pytest.approx(0.5)
    assert metrics["r2"]["value"] == pytest.approx(1 - 4 / 5)
    assert metrics["mse"]["standard_deviation"] == pytest.approx(np.std([0, 0, 0, -2]))
    assert report["test_rows"] == 4


def test_fails_on_prediction_count_mismatch() -> None:
    with pytest.raises(evaluate.EvaluationError, match="expected 3 values, got 2"):
        evaluate.regression_report(np.ones(3), np.ones(2))


def _least_squares_loader(train_csv: Path) -> Callable[[Path], Callable[[np.ndarray], np.ndarray]]:
    train = np.loadtxt(train_csv, delimiter=",")
    design = np.column_stack([train[:, 1:], np.ones(len(train))])
    weights, *_ = np.linalg.lstsq(design, train[:, 0], rcond=None)

    def load(_model_dir: Path) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: np.column_stack([x, np.ones(len(x))]) @ weights

    return load


def test_evaluate_writes_report_the_quality_gate_can_read(tmp_path: Path, input_dir: Path) -> None:
    _, out = _prepared(tmp_path, input_dir)
    loader = _least_squares_loader(out / "train" / "train.csv")
    report = evaluate.run(tmp_path / "model", out / "test", tmp_path / "eval", loader)
    written = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert written == json.loads(json.dumps(report))
    value: object = written
    for part in GATE_METRIC_PATH.split("."):  # the path the Condition step's JsonGet reads
        assert isinstance(value, dict)
        value = value[part]
    assert isinstance(value, float)
    assert 0 < value < 6.0  # the synthetic data is learnable: below the default threshold
    assert written["test_rows"] == 60


def test_extract_model_file_reads_only_the_booster(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    with tarfile.open(model_dir / "model.tar.gz", "w:gz") as tar:
        for name, payload in (("xgboost-model", b"booster-bytes"), ("../evil", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    work = tmp_path / "work"
    work.mkdir()
    extracted = evaluate.extract_model_file(model_dir, work)
    assert extracted.read_bytes() == b"booster-bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "work"]


def test_fails_when_archive_has_no_booster(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("other")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(evaluate.EvaluationError, match="holds no 'xgboost-model' file"):
        evaluate.extract_model_file(tmp_path, tmp_path)
