"""Fixtures shared by the test modules."""
import os

import pytest


@pytest.fixture(scope="module")
def runtime_cache(tmp_path_factory):
    """One runtime cache for the module that asks for it (pytestmark usefixtures), never the user's ~/.cache."""
    old = os.environ.get("SWMLIR_CACHE_DIR")
    os.environ["SWMLIR_CACHE_DIR"] = str(tmp_path_factory.mktemp("swmlir-cache"))
    yield
    if old is None:
        os.environ.pop("SWMLIR_CACHE_DIR", None)
    else:
        os.environ["SWMLIR_CACHE_DIR"] = old
