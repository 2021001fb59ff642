"""Shared set-up: the Keras backend is chosen before anything imports keras, and
every property test draws the same examples on every run."""

import os

from hypothesis import HealthCheck, settings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Derandomised: the examples are a function of the test alone (no seed, no example
# database), so a failure reproduces on the next run and on every machine, and the
# suite's time does not depend on what an earlier run stored. No wall-clock limits
# either (deadline, too_slow): on a loaded machine they would make the verdict vary.
settings.register_profile(
    "compare",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("compare")


def pytest_addoption(parser):
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite the report golden files under tests/golden/ instead of comparing",
    )
