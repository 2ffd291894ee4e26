"""How the harness's side of a device reports failures, so a run can tell the lab's fault from the device's.

:class:`InfraError`: the lab failed (a device or service unreachable, a lab credential refused); a run may retry
it and reports it as infrastructure. :class:`DeviceError`: the device answered, but not as it should; that is a
finding about the product and is never retried.
"""

from __future__ import annotations


class InfraError(RuntimeError):
    """The lab's infrastructure failed: the result says nothing about the device under test."""


class DeviceError(RuntimeError):
    """The device answered, but wrongly or with an error of its own: a finding about the device."""
