"""Shared pytest configuration.

Marker ``cuda``: the test needs a CUDA GPU; it is skipped, with a reason, when torch is missing
or sees no GPU. (The marker itself is declared in pyproject.toml.)
Hypothesis: the "ci" profile (default) has no deadline, since the first call of a PyTorch
reference can take a while; select another with ``--hypothesis-profile``.
"""
from __future__ import annotations

import pytest

try:
    from hypothesis import HealthCheck, settings

    settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("ci")
except ImportError:  # hypothesis is only needed by the property-based tests
    pass


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cuda: needs a CUDA GPU (skipped without one)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("cuda") for item in items):
        return
    if _cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU: torch.cuda.is_available() is False")
    for item in items:
        if item.get_closest_marker("cuda"):
            item.add_marker(skip)
