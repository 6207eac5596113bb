"""Settings of the server `make bench` measures: the project's own (production settings from the
environment), plus the two references it is compared with (``benchmarks.urls``)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
