"""Device leases: each device is driven by one run at a time; a crashed run's lease expires by itself."""

from harness.lab.leases.base import (
    Holder,
    Holding,
    Lease,
    LeaseBusy,
    LeaseError,
    LeaseLost,
    LeaseStore,
    LeaseStoreError,
)
from harness.lab.leases.sqlite import LEASES_FILE, SqliteLeaseStore

__all__ = [
    "LEASES_FILE",
    "Holder",
    "Holding",
    "Lease",
    "LeaseBusy",
    "LeaseError",
    "LeaseLost",
    "LeaseStore",
    "LeaseStoreError",
    "SqliteLeaseStore",
]
