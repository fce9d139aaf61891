"""An idiomatic hand-written Keras script for the model and data of specs/digits_cnn_bench.yaml.

It is the baseline of bench_train_time.py: same data split, preprocessing, network, optimizer,
batch size and epochs as the code specc generates. Prints the fit time in seconds
(wall clock and process CPU time).
"""

import json
import sys
import time

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 7
keras.utils.set_random_seed(SEED)

digits = load_digits()
x = digits.data.reshape(-1, 8, 8, 1).astype("float32")
y = digits.target.astype("int32")
x_rest, x_test, y_rest, y_test = train_test_split(
    x, y, test_size=0.15, random_state=SEED, stratify=y
)
x_train, x_val, y_train, y_val = train_test_split(
    x_rest, y_rest, test_size=0.15 / 0.85, random_state=SEED, stratify=y_rest
)

normalize = keras.layers.Normalization(axis=-1)
normalize.adapt(x_train)

model = keras.Sequential(
    [
        keras.Input((8, 8, 1)),
        normalize,
        keras.layers.Conv2D(
            32, 3, padding="same", activation="relu", kernel_initializer="he_normal"
        ),
        keras.layers.BatchNormalization(),
        keras.layers.Conv2D(
            32, 3, padding="same", activation="relu", kernel_initializer="he_normal"
        ),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(
            64, 3, padding="same", activation="relu", kernel_initializer="he_normal"
        ),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(0.003),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
start, start_cpu = time.perf_counter(), time.process_time()
model.fit(x_train, y_train, validation_data=(x_val, y_val), batch_size=32, epochs=15, verbose=0)
fit_seconds = time.perf_counter() - start
fit_cpu_seconds = time.process_time() - start_cpu
_, accuracy = model.evaluate(x_test, y_test, verbose=0)
result = {"fit_seconds": fit_seconds, "fit_cpu_seconds": fit_cpu_seconds}
json.dump({**result, "test_accuracy": float(accuracy)}, sys.stdout)
print()
