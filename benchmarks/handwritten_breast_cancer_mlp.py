"""An idiomatic hand-written Keras script for the model and data of
specs/breast_cancer_mlp_bench.yaml.

A baseline of bench_train_time.py: same data split, preprocessing, network, optimizer, batch
size and epochs (150 short ones) as the code specc generates. Prints the fit time in seconds
(wall clock and process CPU time).
"""

import json
import sys
import time

import keras
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

SEED = 3
keras.utils.set_random_seed(SEED)

x, y = load_breast_cancer(return_X_y=True)
x = x.astype("float32")
y = y.astype("float32").reshape(-1, 1)
index = np.arange(len(y))
rest, test = train_test_split(index, test_size=114, random_state=SEED, stratify=y[:, 0])
train, val = train_test_split(rest, test_size=85, random_state=SEED, stratify=y[rest, 0])

normalize = keras.layers.Normalization(axis=-1)
normalize.adapt(x[train])
l2 = keras.regularizers.L2(0.001)
model = keras.Sequential(
    [
        keras.Input((30,)),
        normalize,
        keras.layers.Dense(128, activation="relu", kernel_initializer="he_normal",
                           kernel_regularizer=l2),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal",
                           kernel_regularizer=l2),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)  # fmt: skip
model.compile(
    optimizer=keras.optimizers.Adam(0.001), loss="binary_crossentropy", metrics=["accuracy"]
)
start, start_cpu = time.perf_counter(), time.process_time()
model.fit(
    x[train], y[train], validation_data=(x[val], y[val]), batch_size=32, epochs=150, verbose=0
)
fit_seconds = time.perf_counter() - start
fit_cpu_seconds = time.process_time() - start_cpu
_, accuracy = model.evaluate(x[test], y[test], verbose=0)
result = {"fit_seconds": fit_seconds, "fit_cpu_seconds": fit_cpu_seconds}
json.dump({**result, "test_accuracy": float(accuracy)}, sys.stdout)
print()
