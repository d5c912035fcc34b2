"""Data preparation for the abalone model (runs in the SageMaker scikit-learn processing image).

Reads every CSV file of the input channel (UCI abalone schema: sex, length, diameter, height,
whole_weight, shucked_weight, viscera_weight, shell_weight, rings; with or without a header row),
shuffles and splits the rows 70/15/15 into train / validation / test, then encodes them the way
the built-in XGBoost algorithm wants them: CSV without header, label (rings) first, the seven
measurements imputed with the training median and standardised with the training mean and
standard deviation, and `sex` one-hot encoded (M, F, I; anything else, or missing, is all zeros).
All statistics are fitted on the training split only.

Only the standard library and numpy are used, so the script runs in any SageMaker Python image
and in a plain virtualenv. Python 3.8 compatible (the processing image's interpreter).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

COLUMNS = (
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
    "rings",
)
NUMERIC_FEATURES = COLUMNS[1:-1]
SEX_CATEGORIES = ("M", "F", "I")
MISSING_MARKERS = frozenset({"", "?", "na", "nan", "null"})
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)
SPLIT_NAMES = ("train", "validation", "test")
MIN_ROWS = 20

BASE_DIR = Path("/opt/ml/processing")


class DataError(ValueError):
    """Raised when the input data does not follow the abalone schema."""


class RawData(NamedTuple):
    """Parsed input rows: sex codes, measurements (NaN where missing) and ring counts."""

    sex: list[str]
    features: np.ndarray
    rings: np.ndarray


class SplitData(NamedTuple):
    """Encoded splits: label first, then features, one row per example."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def _parse_float(text: str, where: str, column: str) -> float:
    if text.strip().lower() in MISSING_MARKERS:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise DataError(f"{where}: column {column!r} is not a number: {text!r}") from None


def read_raw(paths: list[Path]) -> RawData:
    """Parse the CSV files; rows without a ring count are skipped (they cannot be learnt)."""
    sex: list[str] = []
    features: list[list[float]] = []
    rings: list[float] = []
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            for line_number, row in enumerate(csv.reader(handle), start=1):
                where = f"{path.name}:{line_number}"
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(COLUMNS):
                    raise DataError(
                        f"{where}: expected {len(COLUMNS)} columns ({', '.join(COLUMNS)}), "
                        f"got {len(row)}"
                    )
                if [cell.strip().lower() for cell in row] == list(COLUMNS):
                    continue  # header row
                label = _parse_float(row[-1], where, "rings")
                if math.isnan(label):
                    continue
                if label < 0:
                    raise DataError(f"{where}: column 'rings' must be >= 0, got {label}")
                values = [
                    _parse_float(row[offset], where, column)
                    for offset, column in enumerate(NUMERIC_FEATURES, start=1)
                ]
                sex.append(row[0].strip().upper())
                features.append(values)
                rings.append(label)
    if len(rings) < MIN_ROWS:
        raise DataError(
            f"input data: expected at least {MIN_ROWS} labelled rows, got {len(rings)} "
            f"(files: {', '.join(p.name for p in paths) or 'none'})"
        )
    return RawData(
        sex=sex,
        features=np.asarray(features, dtype=float).reshape(len(rings), len(NUMERIC_FEATURES)),
        rings=np.asarray(rings, dtype=float),
    )


def split_indices(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffled row indices of the train / validation / test splits (70/15/15, none empty)."""
    order = np.random.RandomState(seed).permutation(count)
    train_end = round(count * SPLIT_FRACTIONS[0])
    validation_end = train_end + round(count * SPLIT_FRACTIONS[1])
    train_end = min(max(train_end, 1), count - 2)
    validation_end = min(max(validation_end, train_end + 1), count - 1)
    return order[:train_end], order[train_end:validation_end], order[validation_end:]


def _one_hot(sex: list[str], rows: np.ndarray) -> np.ndarray:
    encoded = np.zeros((len(rows), len(SEX_CATEGORIES)), dtype=float)
    for out_row, index in enumerate(rows):
        code = sex[int(index)]
        if code in SEX_CATEGORIES:
            encoded[out_row, SEX_CATEGORIES.index(code)] = 1.0
    return encoded


def encode(raw: RawData, seed: int) -> SplitData:
    """Split, impute, scale and one-hot encode; statistics come from the training split."""
    train_rows, validation_rows, test_rows = split_indices(len(raw.rings), seed)
    train_features = raw.features[train_rows]
    medians = np.array(
        [
            float(np.nanmedian(column)) if not np.all(np.isnan(column)) else 0.0
            for column in train_features.T
        ]
    )
    imputed = np.where(np.isnan(raw.features), medians, raw.features)
    means = imputed[train_rows].mean(axis=0)
    stds = imputed[train_rows].std(axis=0)
    stds = np.where(stds > 0, stds, 1.0)
    scaled = (imputed - means) / stds

    def assemble(rows: np.ndarray) -> np.ndarray:
        return np.column_stack([raw.rings[rows], scaled[rows], _one_hot(raw.sex, rows)])

    return SplitData(
        train=assemble(train_rows),
        validation=assemble(validation_rows),
        test=assemble(test_rows),
    )


def input_files(input_dir: Path) -> list[Path]:
    """The CSV files of the input channel, sorted (a single object arrives as one file)."""
    files = sorted(p for p in input_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"input data: no file under {input_dir}")
    return files


def run(input_dir: Path, output_dir: Path, seed: int) -> dict[str, int]:
    """Prepare the splits under `output_dir/<split>/<split>.csv`; returns rows per split."""
    splits = encode(read_raw(input_files(input_dir)), seed)
    counts: dict[str, int] = {}
    for index, name in enumerate(SPLIT_NAMES):
        data = splits[index]
        target = output_dir / name
        target.mkdir(parents=True, exist_ok=True)
        np.savetxt(target / f"{name}.csv", data, delimiter=",", fmt="%.10g")
        counts[name] = int(data.shape[0])
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=BASE_DIR / "input" / "data")
    parser.add_argument("--output-dir", type=Path, default=BASE_DIR)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    try:
        counts = run(args.input_dir, args.output_dir, args.seed)
    except DataError as error:
        print(f"preprocess: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"rows": counts}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
