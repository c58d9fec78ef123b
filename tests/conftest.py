import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Deterministic tests; torch uses both cores of the CI machine."""
    torch.manual_seed(0)
    yield
