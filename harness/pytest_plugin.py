"""The epson-hil pytest plugin (entry point ``pytest11``): the hooks and fixtures of ``harness.plugin``."""

from harness.plugin.fixtures import (
    device,
    inventory_path,
    lab,
    lab_browser,
    mailbox,
    microsoft_pages,
    msft,
    panel,
    run_id,
    snmp,
    webconfig,
    webconfig_pages,
)
from harness.plugin.hooks import (
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_generate_tests,
    pytest_runtest_makereport,
    pytest_runtest_protocol,
)

#: Loaded with this plugin: the Allure results' evidence, failure classes, environment and categories.
pytest_plugins = ["harness.reporting.allure_capture"]

__all__ = [
    "device",
    "inventory_path",
    "lab",
    "lab_browser",
    "mailbox",
    "microsoft_pages",
    "msft",
    "panel",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_runtest_makereport",
    "pytest_runtest_protocol",
    "run_id",
    "snmp",
    "webconfig",
    "webconfig_pages",
]
