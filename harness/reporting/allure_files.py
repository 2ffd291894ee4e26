"""What the harness adds to an Allure results directory: ``categories.json``, ``environment.properties``, the
failure class in each failed result's message, and a results writer that passes everything through redaction.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import allure_commons
from allure_commons.logger import AllureFileLogger
from attr import asdict

from harness.lab.outcomes import FailureClass
from harness.reporting.collector import redact_strings
from harness.reporting.record import DeviceRecord, RunRecord
from harness.reporting.redaction import redactor

CATEGORIES_FILE = "categories.json"
ENVIRONMENT_FILE = "environment.properties"

#: What each failure class means to the person reading the report.
_MEANING = {
    FailureClass.DEVICE_DEFECT: "the device did not behave as the guide says",
    FailureClass.HARNESS_ERROR: "the harness itself failed: fix the harness, the device was not judged",
    FailureClass.LAB_INFRASTRUCTURE: "the lab failed (unreachable device, tier down): retried, not a verdict",
}


def failure_message(failure: FailureClass | str, message: str | None) -> str:
    """``message`` led by its failure class in brackets, as the categories match it (never twice)."""
    prefix = f"[{FailureClass(failure).value}]"
    message = message or ""
    return message if message.startswith(prefix) else f"{prefix} {message}".rstrip()


def categories() -> list[dict[str, Any]]:
    """One Allure category per failure class, matched by the bracketed class leading the result's message.

    The regular expressions work for Allure 2 (whole-message match) and Allure 3 (search) alike.
    """
    return [{"name": f"{failure.value.capitalize()}: {_MEANING[failure]}",
             "matchedStatuses": ["failed", "broken"],
             "messageRegex": rf"\[{failure.value}\][\s\S]*"}
            for failure in FailureClass]


def write_categories(alluredir: Path) -> Path:
    path = Path(alluredir) / CATEGORIES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(categories(), indent=2) + "\n", encoding="utf-8")
    return path


def environment_from_record(record: RunRecord) -> dict[str, str]:
    """The run's environment as Allure shows it: each device with model, firmware and serial, tier, harness."""
    return environment_properties(harness_version=record.harness_version, git_revision=record.git_revision,
                                  git_dirty=record.git_dirty, tier=record.tier, inventory=record.inventory_path,
                                  devices=record.devices, run_id=record.run_id)


def environment_properties(*, harness_version: str, git_revision: str | None, git_dirty: bool, tier: str,
                           inventory: str, devices: Iterable[DeviceRecord], run_id: str | None = None,
                           ) -> dict[str, str]:
    properties = {"harness.version": harness_version,
                  "git.revision": (git_revision or "unknown") + (" (modified)" if git_dirty else ""),
                  "tier": tier, "inventory": inventory}
    if run_id:
        properties["run.id"] = run_id
    for device in devices:
        parts = [device.model, f"firmware {device.firmware or 'unknown'}", f"serial {device.serial or 'unknown'}"]
        properties[f"device.{device.name}"] = ", ".join(parts) + f" ({device.kind})"
    return properties


def write_environment(alluredir: Path, properties: Mapping[str, str]) -> Path:
    """``environment.properties`` (Java properties: ``key=value`` lines, escaped), redacted."""
    lines = [f"{_escape(key, key=True)}={_escape(value)}" for key, value in properties.items()]
    path = Path(alluredir) / ENVIRONMENT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redactor().redact_text("\n".join(lines) + "\n"), encoding="utf-8")
    return path


def read_environment(path: Path) -> dict[str, str]:
    """The key/value pairs of an ``environment.properties`` the harness wrote."""
    pairs = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = _split_unescaped(line)
            pairs[_unescape(key)] = _unescape(value)
    return pairs


def _escape(text: str, *, key: bool = False) -> str:
    text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    if key:
        for char in "=: #!":
            text = text.replace(char, "\\" + char)
    return "".join(c if ord(c) < 0x7F else f"\\u{ord(c):04x}" for c in text)


def _split_unescaped(line: str) -> tuple[str, str, str]:
    index = 0
    while index < len(line):
        if line[index] == "\\":
            index += 2
            continue
        if line[index] == "=":
            return line[:index], "=", line[index + 1:]
        index += 1
    return line, "", ""


_ESCAPED = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")
_CONTROL = {"n": "\n", "r": "\r", "t": "\t", "f": "\f"}


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if len(code) == 5 else _CONTROL.get(code, code)

    return _ESCAPED.sub(one, text)


class RedactingFileLogger(AllureFileLogger):
    """Allure's results writer with every result, container and attachment passed through the redactor."""

    def _report_item(self, item: Any) -> None:
        data = redact_strings(asdict(item, filter=lambda _, v: v or v is False))
        filename = item.file_pattern.format(prefix=uuid.uuid4())
        tmp, final = self._report_dir / f"{filename}.tmp", self._report_dir / filename
        with open(tmp, "w", encoding="utf8") as file:
            json.dump(data, file, ensure_ascii=False)
        os.replace(tmp, final)

    @allure_commons.hookimpl
    def report_attached_file(self, source: str, file_name: str) -> None:
        tmp, final = self._report_dir / f"{file_name}.tmp", self._report_dir / file_name
        shutil.copyfile(source, tmp)
        redactor().redact_file(tmp)
        os.replace(tmp, final)

    @allure_commons.hookimpl
    def report_attached_data(self, body: str | bytes, file_name: str) -> None:
        tmp, final = self._report_dir / f"{file_name}.tmp", self._report_dir / file_name
        tmp.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
        redactor().redact_file(tmp)
        os.replace(tmp, final)


def install_redacting_writer(add_cleanup: Any) -> bool:
    """Put a :class:`RedactingFileLogger` in place of allure-pytest's writer; ``add_cleanup`` puts it back.

    allure-pytest's own clean-up unregisters its writer by identity, so the original is restored first.
    """
    manager = allure_commons.plugin_manager
    original = next((p for p in manager.get_plugins() if type(p) is AllureFileLogger), None)
    if original is None:
        return False
    redacting = RedactingFileLogger(original._report_dir)
    manager.unregister(original)
    manager.register(redacting)

    def restore() -> None:
        manager.unregister(redacting)
        manager.register(original)

    add_cleanup(restore)
    return True
