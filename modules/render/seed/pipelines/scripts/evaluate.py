"""Model evaluation for the abalone model (runs in the SageMaker XGBoost image as a processing job).

Loads the trained model from the training job's `model.tar.gz`, scores the test split written by
preprocess.py (CSV, no header, label first) and writes `evaluation.json`:

    {"regression_metrics": {"mse": {"value": ..., "standard_deviation": ...},
                            "rmse": {"value": ...}, "mae": {"value": ...}, "r2": {"value": ...}},
     "test_rows": ...}

The pipeline's quality gate reads `regression_metrics.mse.value` from it, and the model registry
shows it as the model-quality statistics. The metric computation is a pure numpy function; only
`load_xgboost_predictor` needs xgboost (present in the XGBoost image). Python 3.8 compatible.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: the image's Python may predate subscriptable ABCs
    from collections.abc import Callable

    Predictor = Callable[[np.ndarray], np.ndarray]

BASE_DIR = Path("/opt/ml/processing")
MODEL_ARCHIVE = "model.tar.gz"
MODEL_FILE = "xgboost-model"  # name used by the built-in XGBoost algorithm
REPORT_NAME = "evaluation.json"


class EvaluationError(ValueError):
    """Raised when the model or the test data cannot be evaluated."""


def regression_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, object]:
    """Regression metrics of predictions against labels, in the model registry's layout."""
    truth = np.asarray(y_true, dtype=float).ravel()
    predicted = np.asarray(y_pred, dtype=float).ravel()
    if truth.size == 0:
        raise EvaluationError("test data: no rows to evaluate")
    if truth.shape != predicted.shape:
        raise EvaluationError(f"predictions: expected {truth.size} values, got {predicted.size}")
    if not np.all(np.isfinite(predicted)):
        raise EvaluationError("predictions: the model returned NaN or infinite values")
    residuals = truth - predicted
    mse = float(np.mean(residuals**2))
    total = float(np.sum((truth - truth.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residuals**2)) / total if total > 0 else 0.0
    return {
        "regression_metrics": {
            "mse": {"value": mse, "standard_deviation": float(np.std(residuals))},
            "rmse": {"value": math.sqrt(mse)},
            "mae": {"value": float(np.mean(np.abs(residuals)))},
            "r2": {"value": r2},
        },
        "test_rows": int(truth.size),
    }


def read_test_set(test_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Labels and features of every CSV file under `test_dir` (label in the first column)."""
    files = sorted(p for p in test_dir.rglob("*.csv") if p.is_file())
    if not files:
        raise EvaluationError(f"test data: no CSV file under {test_dir}")
    blocks = [np.loadtxt(path, delimiter=",", ndmin=2) for path in files]
    data = np.vstack(blocks)
    if data.shape[1] < 2:
        raise EvaluationError(
            f"test data: expected a label column and features, got {data.shape[1]} column(s)"
        )
    return data[:, 0], data[:, 1:]


def extract_model_file(model_dir: Path, destination: Path) -> Path:
    """Copy `xgboost-model` out of `model_dir/model.tar.gz` without extracting anything else."""
    archive = model_dir / MODEL_ARCHIVE
    if not archive.is_file():
        raise EvaluationError(f"model: {archive} not found")
    with tarfile.open(archive, "r:gz") as tar:
        member = next(
            (m for m in tar.getmembers() if m.isfile() and Path(m.name).name == MODEL_FILE),
            None,
        )
        source = tar.extractfile(member) if member is not None else None
        if source is None:
            raise EvaluationError(f"model: {archive} holds no {MODEL_FILE!r} file")
        target = destination / MODEL_FILE
        target.write_bytes(source.read())
    return target


def load_xgboost_predictor(model_dir: Path) -> Predictor:
    """Predictor from the built-in XGBoost algorithm's model (XGBoost binary format, 1.3-1+)."""
    # Only the XGBoost image has xgboost; importing it here keeps the metrics numpy-only.
    import xgboost  # noqa: PLC0415

    booster = xgboost.Booster()
    with tempfile.TemporaryDirectory() as work:
        booster.load_model(str(extract_model_file(model_dir, Path(work))))

    def predict(features: np.ndarray) -> np.ndarray:
        return np.asarray(booster.predict(xgboost.DMatrix(features)), dtype=float)

    return predict


def run(
    model_dir: Path,
    test_dir: Path,
    output_dir: Path,
    load_predictor: Callable[[Path], Predictor] = load_xgboost_predictor,
) -> dict[str, object]:
    """Evaluate the model on the test split and write `output_dir/evaluation.json`."""
    labels, features = read_test_set(test_dir)
    predictions = load_predictor(model_dir)(features)
    report = regression_report(labels, predictions)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / REPORT_NAME).write_text(
        json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=BASE_DIR / "model")
    parser.add_argument("--test-dir", type=Path, default=BASE_DIR / "test")
    parser.add_argument("--output-dir", type=Path, default=BASE_DIR / "evaluation")
    args = parser.parse_args(argv)
    try:
        report = run(args.model_dir, args.test_dir, args.output_dir)
    except EvaluationError as error:
        print(f"evaluate: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
