"""What Web Config shows about the device itself beyond its identity: product name, root certificate version.

The identity carries model name, serial, MAC, firmware and capabilities; the rest comes from the model
catalogue (a model missing from it shows the plain model name and no root certificate version).
"""

from __future__ import annotations

from typing import Any

from harness.sim.device import VirtualDevice


def _spec(device: VirtualDevice) -> Any | None:
    from harness.sim.models import get_model

    model = device.identity.model
    if not isinstance(model, str):
        return model
    try:
        return get_model(model)
    except KeyError:
        return None


def model_name(device: VirtualDevice) -> str:
    model = device.identity.model
    return model if isinstance(model, str) else str(model.model)


def product_name(device: VirtualDevice) -> str:
    """The name in page titles (``WF-C5790 Series``)."""
    spec = _spec(device)
    return str(spec.product_name) if spec is not None else f"{model_name(device)} Series"


def root_certificate_version(device: VirtualDevice) -> str:
    spec = _spec(device)
    return str(spec.root_certificate_version) if spec is not None else ""


def has(device: VirtualDevice, capability: str) -> bool:
    return capability in {str(c) for c in device.identity.capabilities}
