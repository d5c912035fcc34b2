"""A deterministic synthetic dataset with the UCI abalone schema, for a first pipeline run.

`run_pipeline --upload-sample-data` uploads it to the `InputDataUrl` location when nothing is
there yet, so a fresh project's first build has data to train on. The rows follow the shape of
the real data (shell measurements that grow together, rings that grow with shell weight) so the
model learns something and the quality gate is meaningful. Replace it with your own data by
uploading a CSV with the same columns to the `InputDataUrl` location (or passing another URL).
"""

from __future__ import annotations

import csv
import io
import random

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


def generate_rows(count: int, seed: int = 7) -> list[list[str]]:
    """`count` rows (no header), identical for identical arguments."""
    if count < 1:
        raise ValueError(f"count: expected >= 1, got {count}")
    # Synthetic data, not security sensitive: a seeded PRNG is what we want.
    rng = random.Random(seed)  # noqa: S311
    rows: list[list[str]] = []
    for _ in range(count):
        sex = rng.choice(("M", "F", "I"))
        growth = rng.uniform(0.15, 1.0) * (0.7 if sex == "I" else 1.0)
        length = 0.075 + 0.74 * growth + rng.gauss(0, 0.02)
        diameter = 0.8 * length + rng.gauss(0, 0.015)
        height = 0.35 * diameter + rng.gauss(0, 0.01)
        whole = 2.6 * length**3 * 4.0 + abs(rng.gauss(0, 0.03))
        shucked = whole * rng.uniform(0.38, 0.48)
        viscera = whole * rng.uniform(0.19, 0.24)
        shell = whole * rng.uniform(0.26, 0.32)
        rings = max(1, round(3.0 + 10.0 * growth + 8.0 * shell + rng.gauss(0, 1.2)))
        rows.append(
            [
                sex,
                f"{max(length, 0.05):.3f}",
                f"{max(diameter, 0.04):.3f}",
                f"{max(height, 0.01):.3f}",
                f"{whole:.4f}",
                f"{shucked:.4f}",
                f"{viscera:.4f}",
                f"{shell:.4f}",
                str(rings),
            ]
        )
    return rows


def generate_csv(count: int = 600, seed: int = 7, *, header: bool = False) -> str:
    """The dataset as CSV text (LF line ends); without a header, like the UCI file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    writer.writerows(generate_rows(count, seed))
    return buffer.getvalue()
