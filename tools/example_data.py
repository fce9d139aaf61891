"""Regenerate the data files of the example specs: `python -m tools.example_data`.

`specs/data/digits_split.npz` holds scikit-learn's 8x8 digits the way `keras.datasets` archives
hold theirs, as `x_train`, `y_train`, `x_test`, `y_test` (uint8 pixels 0..16 and labels): the
first 1,437 images are for training, the last 360 a given test set (the spec
`specs/digits_given_test.yaml` reads them with `data.test`). Deterministic: no shuffling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_digits_split"]

REPO = Path(__file__).resolve().parents[1]
TEST_EXAMPLES = 360


def write_digits_split(path: Path = REPO / "specs" / "data" / "digits_split.npz") -> Path:
    """Write the digits archive at `path` and return it."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.data.astype(np.uint8)  # whole numbers 0..16
    y = digits.target.astype(np.uint8)
    cut = len(y) - TEST_EXAMPLES
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x_train=x[:cut], y_train=y[:cut], x_test=x[cut:], y_test=y[cut:])
    return path


def main() -> None:
    print(write_digits_split())


if __name__ == "__main__":
    main()
