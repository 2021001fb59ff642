"""Shared set-up: the Keras backend is chosen before anything imports keras, and
every property test draws the same examples on every run."""

import os

from hypothesis import settings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Derandomised: the examples are a function of the test alone (no seed, no example
# database), so a failure reproduces on the next run and on every machine, and the
# suite's time does not depend on what an earlier run stored.
settings.register_profile("compare", derandomize=True, database=None, deadline=None)
settings.load_profile("compare")


def pytest_addoption(parser):
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite the report golden files under tests/golden/ instead of comparing",
    )
