"""What kind of failure a failed test is: a device defect, a harness error, or lab infrastructure.

Only infrastructure failures are worth retrying; the record keeps every attempt with its class.
"""

from __future__ import annotations

from enum import StrEnum

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from harness.device.errors import DeviceError, InfraError


class FailureClass(StrEnum):
    DEVICE_DEFECT = "device defect"
    HARNESS_ERROR = "harness error"
    LAB_INFRASTRUCTURE = "lab infrastructure"


def classify(exc: BaseException) -> FailureClass:
    """The failure class of an exception raised by a test or a fixture."""
    if isinstance(exc, InfraError):
        return FailureClass.LAB_INFRASTRUCTURE
    if isinstance(exc, AssertionError | DeviceError | pytest.fail.Exception):
        return FailureClass.DEVICE_DEFECT  # pytest.raises' "DID NOT RAISE" is a failed expectation too
    if isinstance(exc, requests.RequestException):
        if isinstance(exc, requests.ConnectionError | requests.Timeout):
            return FailureClass.LAB_INFRASTRUCTURE
        if isinstance(exc, requests.HTTPError):
            return FailureClass.DEVICE_DEFECT  # the device answered with an HTTP error
        return FailureClass.HARNESS_ERROR  # a malformed request is the harness's own doing
    if isinstance(exc, OSError):
        return FailureClass.LAB_INFRASTRUCTURE  # refused, reset, unreachable, timed out at the socket
    if isinstance(exc, PlaywrightTimeout):
        return FailureClass.DEVICE_DEFECT  # the page loaded but never showed the device's expected signal
    if isinstance(exc, PlaywrightError) and "net::ERR_" in str(exc):
        return FailureClass.LAB_INFRASTRUCTURE  # the browser could not reach the device at all
    return FailureClass.HARNESS_ERROR
