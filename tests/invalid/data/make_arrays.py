"""Write the tiny archives the invalid npz specs in tests/invalid/ read:
`python tests/invalid/data/make_arrays.py` (run from anywhere; deterministic)."""

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 4)).astype(np.float32)
    labels = np.arange(12) % 3
    # a keras.datasets-style archive: x_train, y_train, x_test, y_test
    np.savez(
        HERE / "split.npz",
        x_train=x,
        y_train=labels,
        x_test=x[:6],
        y_test=labels[:6],
    )
    # one archive with every kind of wrong array
    np.savez(
        HERE / "odd.npz",
        x=x,
        y=labels,
        names=np.array(["a", "b", "c"] * 4),
        short=x[:10],
        ids=rng.integers(0, 5, size=(12, 4)),
        fractions=labels + 0.5,
        big_labels=labels + 3,
        wide=rng.normal(size=(12, 2)),
    )
    (HERE / "empty.npz").write_bytes(b"")


if __name__ == "__main__":
    main()
