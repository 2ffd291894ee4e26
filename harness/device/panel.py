"""A device's control panel as the suites use it: read Email Server Status, print the status sheet, send scans.

Two panels behind one :class:`Panel` protocol. :class:`RemotePanel` drives a virtual device's remote panel
through the lab's control API, choosing menu items by their names (the guide's: Settings > General Settings >
Network Settings > Network Status > Email Server Status) and logging in as administrator when the lock asks.
:class:`OperatorPanel` is for real devices: it prints what a person must do at the device and reads their
answer (the screen's text pasted, or a photo or PDF of the status sheet). Screen texts are read with the
status-sheet reader, so a panel and a printed sheet are judged the same way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import requests

from harness.device.errors import DeviceError, InfraError
from harness.device.statussheet import (
    EmailServerStatus,
    StatusSheet,
    parse_status_sheet_image,
    parse_status_sheet_pdf,
    parse_status_sheet_text,
)
from harness.msft.control_client import ControlApiError, TierControl
from harness.reporting import evidence
from harness.reporting.record import AttachmentKind
from harness.reporting.steps import step

if TYPE_CHECKING:
    from harness.lab.labfile import LabInfo

__all__ = [
    "EMAIL_SERVER_STATUS", "NETWORK_STATUS", "PRINT_STATUS_SHEET", "SERVERLESS_SUCCESS", "ActionUnavailable",
    "AdminLoginRefused", "JobOutcome", "OperatorPanel", "Panel", "PanelError", "PanelScreen", "PanelSignIn",
    "PanelUnreachable", "RemotePanel", "read_status_sheet",
]

#: Menu paths of the guide (§3, §4); real devices may word them differently, an operator sees them as text.
NETWORK_STATUS = ("Settings", "General Settings", "Network Settings", "Network Status")
EMAIL_SERVER_STATUS = (*NETWORK_STATUS, "Email Server Status")
PRINT_STATUS_SHEET = (*NETWORK_STATUS, "Print Status Sheet")
SCAN_TO_EMAIL, SCAN_TO_MY_EMAIL, FAX = "Scan to Email", "Scan to My Email", "Fax"
#: What the device says after a Serverless user's sign-in (guide §6).
SERVERLESS_SUCCESS = "Authentication was successful. Try the operation again from the Home Screen."
SIGN_IN_FAILED = "Sign-in failed."
_ERROR_CODE = re.compile(r"(?i)error\s*code\s*:?\s*(\d{3})")
_SUCCESS = re.compile(r"(?i)\b(sending complete|succeeded|complete[d]?)\b")
_MAX_NOTICES = 8


class PanelError(DeviceError):
    """The panel showed something other than what the task needs (its text is quoted)."""


class ActionUnavailable(PanelError):
    """The current screen does not offer the action (the model lacks the feature, or the menus differ)."""


class AdminLoginRefused(InfraError):
    """The panel is locked and the lab's administrator password was refused (or none was given)."""


class PanelUnreachable(InfraError):
    """The lab's control API (the remote panel) could not be reached or refused the lab's credentials."""


@dataclass(frozen=True)
class PanelScreen:
    """What the panel shows: title, ``Key : Value`` and other lines, the actions offered (empty if unknown)."""

    title: str
    lines: tuple[str, ...]
    actions: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    locked: bool = False
    #: The arguments an action takes, e.g. ``{"OK": ("password",)}`` on the administrator login.
    inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PanelScreen:
        return cls(title=str(data.get("title", "")), lines=tuple(map(str, data.get("lines", []))),
                   actions=tuple(map(str, data.get("actions", []))), path=tuple(map(str, data.get("path", []))),
                   messages=tuple(map(str, data.get("messages", []))), locked=bool(data.get("locked")),
                   inputs={str(k): tuple(map(str, v)) for k, v in (data.get("inputs") or {}).items()})

    @property
    def text(self) -> str:
        return "\n".join([" > ".join(self.path) or self.title, *self.lines])

    def values(self) -> dict[str, str]:
        """The screen's ``Key : Value`` lines."""
        pairs = (line.split(":", 1) for line in self.lines if ":" in line)
        return {key.strip(): value.strip() for key, value in pairs}

    @property
    def asks_admin_password(self) -> bool:
        return "password" in self.inputs.get("OK", ())


@dataclass(frozen=True)
class JobOutcome:
    """What the panel says after a send: ``sent``, its result text and the job's error code (360/361/370)."""

    sent: bool
    result: str
    error_code: int | None
    lines: tuple[str, ...]

    @classmethod
    def from_lines(cls, lines: tuple[str, ...] | list[str]) -> JobOutcome:
        text = " ".join(lines)
        found = _ERROR_CODE.search(text)
        code = int(found.group(1)) if found else None
        result = next((line.split(":", 1)[1].strip() for line in lines if line.split(":", 1)[0].strip() == "Result"),
                      lines[0].strip() if lines else "")
        return cls(sent=code is None and bool(_SUCCESS.search(text)), result=result, error_code=code,
                   lines=tuple(lines))


@dataclass(frozen=True)
class PanelSignIn:
    """The panel asks for a sign-in (Scan to My Email): the URL and code it shows. Field names match
    ``harness.device.webconfig``'s ``SignInCode``, so the same Microsoft-side helper completes either."""

    verification_uri: str
    user_code: str = field(repr=False)
    service: str = ""
    message: str = field(default="", repr=False)

    @classmethod
    def from_screen(cls, screen: PanelScreen) -> PanelSignIn | None:
        values = screen.values()
        url, code = values.get("URL", ""), values.get("Code", "")
        if not (url.startswith("https://") and code):
            return None
        message = next((line for line in screen.lines if code in line and line.strip() != f"Code : {code}"), "")
        return cls(url, code, values.get("Email service", ""), message)


def read_status_sheet(data: bytes) -> StatusSheet:
    """A printed status sheet given as a PDF or a photo/scan (PNG, JPEG, TIFF), parsed by its keys."""
    return parse_status_sheet_pdf(data) if data.startswith(b"%PDF") else parse_status_sheet_image(data)


def keep_status_sheet(data: bytes) -> None:
    """Keep a printed status sheet (a PDF, or an operator's photo of it) as evidence of the current test."""
    media_type, extension = next(((m, e) for magic, m, e in _SHEET_FORMATS if data.startswith(magic)),
                                 ("application/octet-stream", "bin"))
    evidence.attach("network status sheet", data, AttachmentKind.STATUS_SHEET, media_type=media_type,
                    extension=extension)


_SHEET_FORMATS = ((b"%PDF", "application/pdf", "pdf"), (b"\x89PNG", "image/png", "png"),
                  (b"\xff\xd8", "image/jpeg", "jpg"), (b"II*\x00", "image/tiff", "tif"),
                  (b"MM\x00*", "image/tiff", "tif"))


def _existing_file(answer: str) -> Path | None:
    """The file an operator's answer names (quotes and ``~`` allowed), or None when it names none."""
    text = answer.strip().strip("'\"")
    path = Path(text).expanduser()
    return path if text and path.is_file() else None


def _email_of(sheet: StatusSheet, where: str) -> EmailServerStatus:
    if sheet.email is None:
        raise PanelError(f"{where} shows no Email Server Status keys (read: {', '.join(sheet.values) or 'nothing'})")
    return sheet.email


class Panel(Protocol):
    """The panel as an interface: raw screens and actions, and the tasks the suites ask for."""

    def screen(self) -> PanelScreen: ...

    def press(self, action: str, **args: str) -> PanelScreen: ...

    def email_server_sheet(self) -> StatusSheet: ...

    def email_server_status(self) -> EmailServerStatus: ...

    def print_status_sheet(self) -> bytes | None: ...

    def scan_to_email(self, to: str) -> JobOutcome: ...

    def scan_to_my_email(self, user_id: str) -> JobOutcome | PanelSignIn: ...

    def finish_sign_in(self, timeout: float = 60.0) -> None: ...

    def fax(self, to: str) -> JobOutcome: ...


class RemotePanel:
    """A virtual device's remote panel through the lab's control API (``/devices/{name}/panel``)."""

    def __init__(self, control_url: str, token: str, ca_bundle: Path | str, device_name: str, *,
                 admin_password: str | None = None, timeout: float = 30.0, poll_interval: float = 0.2) -> None:
        self.device_name = device_name
        self.control = TierControl(control_url, token, ca_bundle, timeout=timeout)
        self._admin_password = admin_password
        self.poll_interval = poll_interval
        #: Notices the panel showed at its home screen and this driver dismissed with OK (newest last).
        self.notices: list[str] = []

    @classmethod
    def from_lab(cls, lab: LabInfo, device_name: str, **options: Any) -> RemotePanel:
        device = lab.device(device_name)
        return cls(lab.msft.control.url, lab.msft.control.token, lab.msft.ca_bundle, device_name,
                   admin_password=device.admin_password, **options)

    def __repr__(self) -> str:
        return f"RemotePanel({self.control.url!r}, {self.device_name!r})"

    def close(self) -> None:
        self.control.close()

    # --- the wire -----------------------------------------------------------------------------------------
    def _call(self, method: str, suffix: str, body: dict[str, Any] | None = None) -> Any:
        path = f"/devices/{self.device_name}{suffix}"
        try:
            return self.control.request(method, path, body)
        except requests.RequestException as exc:
            raise PanelUnreachable(f"{self.control.url}: {type(exc).__name__}: {exc}") from None
        except ControlApiError as exc:
            message = exc.body.get("message", str(exc)) if isinstance(exc.body, dict) else str(exc)
            if exc.status in (401, 403):
                raise PanelUnreachable(f"the control API refused the lab's credentials: {message}") from None
            if exc.status == 409:
                raise ActionUnavailable(message) from None
            raise PanelError(f"{method} {path}: {exc.status} {message}") from None

    def screen(self) -> PanelScreen:
        return PanelScreen.from_json(self._call("GET", "/panel"))

    def press(self, action: str, **args: str) -> PanelScreen:
        return PanelScreen.from_json(self._call("POST", "/panel", {"action": action, "args": args}))

    # --- moving around ------------------------------------------------------------------------------------
    def home(self) -> PanelScreen:
        """The home screen, dismissing (and keeping in :attr:`notices`) any message the device shows there."""
        screen = self.screen()
        if "Home" in screen.actions:
            screen = self.press("Home")
        for _ in range(_MAX_NOTICES):
            if screen.path or screen.actions != ("OK",):
                return screen
            self.notices.append("\n".join(screen.lines))
            screen = self.press("OK")
        raise PanelError(f"the panel keeps showing messages at home: {screen.text}")

    def choose(self, screen: PanelScreen, item: str, **args: str) -> PanelScreen:
        """Choose ``item`` on ``screen``; log in as administrator when the lock asks for it."""
        if item not in screen.actions:
            offered = ", ".join(screen.actions) or "nothing"
            raise ActionUnavailable(f"{item!r} is not on the {screen.title or 'current'} screen (it offers {offered})")
        after = self.press(item, **args)
        return self._log_in(after) if after.asks_admin_password else after

    def navigate(self, *items: str) -> PanelScreen:
        """From home, choose each menu item by name, e.g. ``navigate(*EMAIL_SERVER_STATUS)``."""
        screen = self.home()
        for item in items:
            screen = self.choose(screen, item)
        return screen

    def _log_in(self, screen: PanelScreen) -> PanelScreen:
        if self._admin_password is None:
            raise AdminLoginRefused("the panel is locked (lock icon) and no administrator password was given")
        after = self.press("OK", password=self._admin_password)
        if after.asks_admin_password:
            self.press("Cancel")
            refusal = " ".join(line for line in after.lines if "password" in line.lower() and "enter" not in
                               line.lower()) or after.text
            raise AdminLoginRefused(f"the panel refused the administrator password: {refusal}")
        return after

    # --- tasks --------------------------------------------------------------------------------------------
    @step("{device}: read Email Server Status on the panel")
    def email_server_sheet(self) -> StatusSheet:
        """Settings > ... > Network Status > Email Server Status, read with the status-sheet reader."""
        lines = self.navigate(*EMAIL_SERVER_STATUS).lines
        evidence.said("the panel's Email Server Status", lines)
        return parse_status_sheet_text("\n".join(lines))

    def email_server_status(self) -> EmailServerStatus:
        return _email_of(self.email_server_sheet(), "the panel's Email Server Status")

    @step("{device}: print the network status sheet from the panel")
    def print_status_sheet(self) -> bytes | None:
        """Print the network status sheet (guide §4) and fetch it as a PDF; None if the model cannot print one."""
        screen = self.navigate(*NETWORK_STATUS)
        if "Print Status Sheet" not in screen.actions:
            return None
        confirm = self.choose(screen, "Print Status Sheet")
        printed = self.choose(confirm, "OK")  # "confirm the message and start printing"
        if "OK" not in printed.actions:
            raise PanelError(f"the panel did not confirm printing: {printed.text}")
        pdf = self._status_sheet_pdf()
        self.press("OK")
        keep_status_sheet(pdf)
        return pdf

    def _status_sheet_pdf(self) -> bytes:
        url = f"{self.control.url}/devices/{self.device_name}/status-sheet"
        try:
            response = self.control.session.get(url, timeout=self.control.timeout)
        except requests.RequestException as exc:
            raise PanelUnreachable(f"{url}: {type(exc).__name__}: {exc}") from None
        with response:
            if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                raise PanelError(f"no printed status sheet at {url}: {response.status_code}")
            return response.content

    def scan_to_email(self, to: str) -> JobOutcome:
        return self._send(SCAN_TO_EMAIL, to)

    def fax(self, to: str) -> JobOutcome:
        return self._send(FAX, to)

    @step("{device}: {function} to {to} from the panel")
    def _send(self, function: str, to: str) -> JobOutcome:
        screen = self.choose(self.home(), function)
        screen = self.choose(screen, "Recipient", to=to)
        if "Start" not in screen.actions:
            raise PanelError(f"{function}: the panel did not accept the recipient: {' '.join(screen.lines)}")
        evidence.mark(evidence.JOB_STARTED)
        return self._outcome(self.choose(screen, "Start"))

    def _outcome(self, screen: PanelScreen) -> JobOutcome:
        evidence.said("the panel", screen.lines)
        outcome = JobOutcome.from_lines(screen.lines)
        if "OK" in screen.actions:
            self.press("OK")
        return outcome

    @step("{device}: Scan to My Email as the user {user_id} from the panel")
    def scan_to_my_email(self, user_id: str) -> JobOutcome | PanelSignIn:
        """Scan to My Email as ``user_id`` (Serverless, guide §6): the job's outcome, or the sign-in it asks for."""
        evidence.mark(evidence.JOB_STARTED)
        screen = self.choose(self.home(), SCAN_TO_MY_EMAIL, user_id=user_id)
        signin = PanelSignIn.from_screen(screen)
        if signin is not None:
            return signin
        if "Result" not in screen.values():
            if "OK" in screen.actions or "Back" in screen.actions:
                self.home()
            raise PanelError(f"{SCAN_TO_MY_EMAIL} as {user_id!r}: {' '.join(screen.lines)}")
        return self._outcome(screen)

    @step("{device}: wait for the panel to report the sign-in and choose OK")
    def finish_sign_in(self, timeout: float = 60.0) -> None:
        """After the person signed in: wait for the device's success message and choose OK, which saves it."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if SERVERLESS_SUCCESS in screen.lines:
                self.press("OK")
                return
            if SIGN_IN_FAILED in screen.lines:
                self.press("OK")
                raise PanelError(f"the panel says the sign-in failed: {' '.join(screen.lines)}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PanelError(f"the panel did not report the sign-in within {timeout:.0f} s: {screen.text}")
            time.sleep(min(self.poll_interval, remaining))


Prompt = Callable[[str], str]
Output = Callable[[str], None]
_NO = frozenset({"n", "no", "not offered", "none"})


class OperatorPanel:
    """A real device's panel worked by a person: prints each step, reads the answers (``prompt``, ``out``)."""

    def __init__(self, prompt: Prompt = input, out: Output = print, *, device: str = "the device") -> None:
        self.prompt = prompt
        self.out = out
        self.device = device

    def __repr__(self) -> str:
        return f"OperatorPanel(device={self.device!r})"

    # --- talking to the operator --------------------------------------------------------------------------
    def _confirm(self, what: str) -> None:
        self.out(f"On the panel of {self.device}: {what}")
        answer = self.prompt("Press Enter when done, or type 'no' if the panel does not offer it: ").strip()
        if answer.lower() in _NO:
            raise ActionUnavailable(f"the operator reports that the panel of {self.device} does not offer: {what}")

    def _block(self, question: str) -> list[str]:
        """Lines typed or pasted by the operator, up to an empty line."""
        self.out(f"{question} (finish with an empty line)")
        lines: list[str] = []
        while True:
            line = self.prompt("> ")
            if not line.strip():
                return lines
            lines.append(line.rstrip())

    def _file(self, question: str) -> bytes | None:
        """The bytes of a file whose path the operator gives; None when they give none."""
        for _ in range(3):
            answer = self.prompt(f"{question}: ").strip()
            if not answer or answer.lower() in _NO:
                return None
            path = _existing_file(answer)
            if path is not None:
                return path.read_bytes()
            self.out(f"No such file: {answer}")
        raise PanelError("the operator gave no readable file after three tries")

    # --- the Panel protocol -------------------------------------------------------------------------------
    def screen(self) -> PanelScreen:
        lines = self._block(f"Type or paste what the panel of {self.device} shows now")
        return PanelScreen(title=lines[0] if lines else "", lines=tuple(lines))

    def press(self, action: str, **args: str) -> PanelScreen:
        """Ask for ``action``; the returned screen is empty (call :meth:`screen` to have it read)."""
        given = ", ".join(f"{name}: {value}" for name, value in args.items())
        self._confirm(f"choose [{action}]" + (f" and enter {given}" if given else ""))
        return PanelScreen(title="", lines=())

    def navigate(self, *items: str) -> None:
        self._confirm(f"from the home screen go to {' > '.join(items)} (if a lock icon is shown, select it and "
                      "log in as administrator first)")

    @step("{device}: read Email Server Status on the panel (operator)")
    def email_server_sheet(self) -> StatusSheet:
        self.navigate(*EMAIL_SERVER_STATUS)
        lines = self._block("Type or paste the Key : Value lines the screen shows, or give the path of a photo "
                            "(PNG/JPEG) or PDF of the screen")
        path = _existing_file(lines[0]) if len(lines) == 1 else None
        return read_status_sheet(path.read_bytes()) if path else parse_status_sheet_text("\n".join(lines))

    def email_server_status(self) -> EmailServerStatus:
        return _email_of(self.email_server_sheet(), "the operator's reading of Email Server Status")

    @step("{device}: print the network status sheet (operator)")
    def print_status_sheet(self) -> bytes | None:
        """The printed sheet as the operator scanned or photographed it (PDF or image bytes); None if none."""
        self.navigate(*PRINT_STATUS_SHEET)
        self._confirm("confirm the message and start printing")
        sheet = self._file("Path of a scan or photo (PDF, PNG, JPEG) of the printed sheet; Enter if none printed")
        if sheet is not None:
            keep_status_sheet(sheet)
        return sheet

    def scan_to_email(self, to: str) -> JobOutcome:
        return self._send(SCAN_TO_EMAIL, to)

    def fax(self, to: str) -> JobOutcome:
        return self._send(FAX, to)

    @step("{device}: {function} to {to} from the panel")
    def _send(self, function: str, to: str) -> JobOutcome:
        self._confirm(f"place a document, choose [{function}] on the home screen, enter the recipient {to} and "
                      "press [Start]")
        evidence.mark(evidence.JOB_STARTED)  # the operator confirms once the job has started
        lines = self._block("What does the panel say when it has finished?")
        evidence.said("the panel (as the operator read it)", lines)
        return JobOutcome.from_lines(lines)

    @step("{device}: Scan to My Email as the user {user_id} from the panel")
    def scan_to_my_email(self, user_id: str) -> JobOutcome | PanelSignIn:
        self._confirm(f"choose [{SCAN_TO_MY_EMAIL}] and identify as the user {user_id}")
        evidence.mark(evidence.JOB_STARTED)
        lines = self._block("What does the panel show? (a sign-in screen's URL and Code lines, or the job's result)")
        screen = PanelScreen(title="", lines=tuple(lines))
        return PanelSignIn.from_screen(screen) or JobOutcome.from_lines(lines)

    @step("{device}: wait for the panel to report the sign-in and choose OK")
    def finish_sign_in(self, timeout: float = 60.0) -> None:
        self._confirm(f"when the panel says \"{SERVERLESS_SUCCESS}\", choose [OK]")
