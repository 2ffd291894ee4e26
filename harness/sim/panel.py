"""The virtual device's remote control panel: a small state machine of screens an operator (or a suite) drives.

A screen (:class:`PanelScreen`) has a title, its place in the menus, ``Key : Value`` lines, the actions it
offers and the messages the device is showing; :meth:`Panel.act` chooses one action. Menus follow the guide:
Settings > General Settings > Network Settings > Network Status > Email Server Status / Print Status Sheet,
plus Scan to Email, Scan to My Email (Epson Print Admin Serverless) and Fax through the fax server. What a
model offers comes from its capabilities. When settings are locked, the home screen shows the lock icon and
Settings asks for the administrator password first.
"""

from __future__ import annotations

import hmac
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.sim.device import (
    EMAIL_SLOT,
    NOT_SIGNED_IN_MESSAGE,
    SERVERLESS_SUCCESS_MESSAGE,
    PendingSignIn,
    Slot,
    VirtualDevice,
    user_slot,
)
from harness.sim.errorcodes import status_text
from harness.sim.jobhistory import Job
from harness.sim.services import DeviceServices
from harness.sim.statussheet import Row, email_server_rows, network_rows, render_status_sheet

#: Firmware defect: Email Server Status keeps showing what it showed first after power-on.
STALE_STATUS_DEFECT = "panel_stale_status"

HOME = "home"
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PanelServices(DeviceServices, Protocol):
    """What the panel asks of the device's engine beyond :class:`DeviceServices`."""

    def scan_to_email(self, to: str) -> Job: ...

    def scan_to_my_email(self, user_id: str) -> Job | PendingSignIn: ...

    def fax_via_server(self, to: str) -> Job: ...

    def expiry_notice(self, slot: Slot) -> str | None: ...

    def cancel_signin(self, slot: Slot) -> None: ...


class PanelError(ValueError):
    """The action is not on the current screen, or its arguments are missing or malformed."""


@dataclass(frozen=True)
class PanelScreen:
    """What the panel shows now. ``locked``: the lock icon is shown (settings need the administrator)."""

    id: str
    title: str
    path: tuple[str, ...]
    lines: tuple[str, ...]
    actions: tuple[str, ...]
    messages: tuple[str, ...] = ()
    locked: bool = False
    #: The arguments an action takes (``{"Recipient": ("to",)}``); actions not listed take none.
    inputs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def text(self) -> str:
        """The screen as an operator reads it."""
        return "\n".join([" > ".join(self.path) or self.title, *self.lines, *(f"[{a}]" for a in self.actions)])

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "path": list(self.path), "lines": list(self.lines),
                "actions": list(self.actions), "messages": list(self.messages), "locked": self.locked,
                "inputs": {action: list(names) for action, names in self.inputs.items()}, "text": self.text()}


@dataclass
class _Frame:
    """One screen on the navigation stack and what it remembers (recipient, job, sign-in slot, ...)."""

    id: str
    title: str
    params: dict[str, Any] = field(default_factory=dict)


#: The setting menus: screen id → (title, [(item, screen id, capability needed or None)]).
_MENUS: dict[str, tuple[str, list[tuple[str, str, str | None]]]] = {
    "settings": ("Settings", [("General Settings", "general_settings", None)]),
    "general_settings": ("General Settings", [("Network Settings", "network_settings", None)]),
    "network_settings": ("Network Settings", [("Network Status", "network_status", None)]),
    "network_status": ("Network Status", [
        ("Wired LAN/Wi-Fi Status", "wired_lan_status", None),
        ("Email Server Status", "email_server_status", None),
        ("Print Status Sheet", "print_status_sheet", "status_sheet"),
    ]),
}


#: (screen id, action) → the arguments :meth:`Panel.act` takes for it (optional ones included).
_INPUTS: dict[tuple[str, str], tuple[str, ...]] = {
    (HOME, "Scan to Email"): ("to",), (HOME, "Fax"): ("to",), (HOME, "Scan to My Email"): ("user_id",),
    ("scan_to_email", "Recipient"): ("to",), ("fax", "Recipient"): ("to",), ("admin_login", "OK"): ("password",),
}


def _kv(rows: list[Row]) -> tuple[str, ...]:
    return tuple(f"{key} : {value}" for key, value in rows)


class Panel:
    """The control panel of one virtual device; thread-safe, one operator at a time."""

    def __init__(self, device: VirtualDevice, services: PanelServices, *, admin_lock: bool = True) -> None:
        if not device.identity.has("panel"):
            raise ValueError(f"{device.identity.model} has no control panel")
        self.device = device
        self.services = services
        self.admin_lock = admin_lock
        self._lock = threading.RLock()
        self._status_sheet: bytes | None = None
        self._reset()

    def _reset(self) -> None:
        self._boot_id = self.device.boot_id
        self._stack: list[_Frame] = [_Frame(HOME, "Home")]
        self._admin = False
        self._dismissed: dict[str, tuple[Slot, float]] = {}
        self._stale_rows: list[Row] | None = None

    @property
    def status_sheet(self) -> bytes | None:
        """The PDF of the last status sheet printed from the panel (None if none yet)."""
        with self._lock:
            return self._status_sheet

    # --- reading the screen -----------------------------------------------------------------------------
    def screen(self) -> PanelScreen:
        """The current screen (looking at the panel also shows any due "about to expire" notice)."""
        with self._lock:
            self._sync()
            messages = self._messages()
            frame = self._stack[-1]
            if frame.id == HOME and messages:
                return self._make(_Frame("message", "Message"), (messages[0],), ("OK",), messages)
            lines, actions = self._render(frame)
            if len(self._stack) > 1:
                actions = (*actions, "Back", "Home")
            return self._make(frame, lines, actions, messages)

    def _make(self, frame: _Frame, lines: tuple[str, ...], actions: tuple[str, ...],
              messages: tuple[str, ...]) -> PanelScreen:
        path = tuple(f.title for f in self._stack[1:]) if frame.id != "message" else ()
        inputs = {a: _INPUTS[(frame.id, a)] for a in actions if (frame.id, a) in _INPUTS}
        return PanelScreen(frame.id, frame.title, path, lines, actions, messages, self._locked(), inputs)

    def _locked(self) -> bool:
        return self.admin_lock and not self._admin

    def _sync(self) -> None:
        """A power cycle ends the admin login and returns to the home screen."""
        if self.device.boot_id != self._boot_id:
            self._reset()

    def _messages(self) -> tuple[str, ...]:
        """The device's messages, after posting due expiry notices; ones dismissed for this sign-in stay hidden."""
        with self.device.lock:
            slots = list(self.device.signins)
        for slot in slots:
            self.services.expiry_notice(slot)
        with self.device.lock:
            posted = list(self.device.panel_messages)
        return tuple(m for m in posted if not self._still_dismissed(m))

    def _still_dismissed(self, message: str) -> bool:
        if message not in self._dismissed:
            return False
        slot, last_used = self._dismissed[message]
        signin = self.device.signin(slot)
        if signin is not None and signin.last_used_at == last_used:
            return True
        del self._dismissed[message]  # the sign-in was used or replaced since: a new notice shows again
        return False

    def _render(self, frame: _Frame) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if frame.id in _MENUS:
            return (), tuple(item for item, _, _ in self._menu_items(frame.id))
        render = getattr(self, f"_show_{frame.id}")
        lines, actions = render(frame)
        return tuple(lines), tuple(actions)

    def _menu_items(self, screen_id: str) -> list[tuple[str, str, str | None]]:
        items = _MENUS[screen_id][1]
        return [item for item in items if item[2] is None or self.device.identity.has(item[2])]

    def _show_home(self, frame: _Frame) -> tuple[list[str], list[str]]:
        identity = self.device.identity
        actions = ["Settings"]
        if identity.has("scan_to_email"):
            actions.append("Scan to Email")
        if identity.has("serverless") and self.device.config.serverless.enabled:
            actions.append("Scan to My Email")
        if identity.has("fax_server_email"):
            actions.append("Fax")
        if self.admin_lock:
            actions.append("Log Out" if self._admin else "Lock")
        return [self.device.config.device_name, "Ready"], actions

    def _show_wired_lan_status(self, frame: _Frame) -> tuple[list[str], list[str]]:
        return list(_kv(network_rows(self.device))), []

    def _show_email_server_status(self, frame: _Frame) -> tuple[list[str], list[str]]:
        rows = email_server_rows(self.device, EMAIL_SLOT)
        if self.device.has_defect(STALE_STATUS_DEFECT):
            if self._stale_rows is None:
                self._stale_rows = rows
            rows = self._stale_rows
        return list(_kv(rows)), []

    def _show_print_status_sheet(self, frame: _Frame) -> tuple[list[str], list[str]]:
        if frame.params.get("printed"):
            return ["The status sheet has been printed."], ["OK"]
        return ["Print the network status sheet?"], ["OK", "Cancel"]

    def _show_admin_login(self, frame: _Frame) -> tuple[list[str], list[str]]:
        lines = ["Enter the administrator password."]
        if frame.params.get("error"):
            lines.append(frame.params["error"])
        return lines, ["OK", "Cancel"]

    def _show_scan_to_email(self, frame: _Frame) -> tuple[list[str], list[str]]:
        return self._show_destination(frame)

    def _show_fax(self, frame: _Frame) -> tuple[list[str], list[str]]:
        return self._show_destination(frame)

    def _show_destination(self, frame: _Frame) -> tuple[list[str], list[str]]:
        to = frame.params.get("to", "")
        lines = [f"Recipient : {to}"]
        if frame.params.get("error"):
            lines.append(frame.params["error"])
        return lines, ["Recipient", "Start"] if to else ["Recipient"]

    def _show_job_result(self, frame: _Frame) -> tuple[list[str], list[str]]:
        job: Job = frame.params["job"]
        lines = [f"Receipt No. : {job.receipt_no:04d}", f"Recipient : {job.recipient}", f"Result : {job.result}"]
        if job.error_code is None:
            lines.insert(0, "Sending complete.")
        else:
            lines[:0] = ["Sending failed.", status_text(job.error_code)]
            lines += [m for m in self.device.panel_messages if m == NOT_SIGNED_IN_MESSAGE]
        return lines, ["OK"]

    def _show_signin(self, frame: _Frame) -> tuple[list[str], list[str]]:
        pending = self._pending(frame)
        if pending is None:
            return ["The sign-in was cancelled."], ["OK"]
        if pending.state == "signed_in":
            return [SERVERLESS_SUCCESS_MESSAGE], ["OK"]
        if pending.state == "failed":
            reason = pending.error or "The sign-in did not complete."
            return ["Sign-in failed.", reason], ["OK"]
        return [
            "Sign in to your email service.",
            f"Email service : {pending.service}",
            f"URL : {pending.verification_uri}",
            f"Code : {pending.user_code}",
            pending.message,
        ], ["Cancel"]

    def _show_notice(self, frame: _Frame) -> tuple[list[str], list[str]]:
        return [frame.params["text"]], ["OK"]

    def _pending(self, frame: _Frame) -> PendingSignIn | None:
        with self.device.lock:
            return self.device.pending.get(frame.params["slot"])

    # --- acting -----------------------------------------------------------------------------------------
    def act(self, action: str, **args: str) -> PanelScreen:
        """Choose ``action`` on the current screen (``to=`` for a recipient, ``password=``, ``user_id=``)."""
        with self._lock:
            current = self.screen()
            if action not in current.actions:
                offered = ", ".join(current.actions) or "nothing"
                raise PanelError(f"{action!r} is not available on the {current.title} screen (it offers {offered})")
            if current.id == "message":
                self._dismiss(current.lines[0])
            elif action == "Back":
                self._stack.pop()
            elif action == "Home":
                del self._stack[1:]
            elif self._stack[-1].id in _MENUS:
                self._open_menu_item(action)
            else:
                getattr(self, f"_on_{self._stack[-1].id}")(self._stack[-1], action, args)
            return self.screen()

    def navigate(self, *actions: str) -> PanelScreen:
        """Choose several actions in turn, e.g. ``navigate("Settings", "General Settings", ...)``."""
        screen = self.screen()
        for action in actions:
            screen = self.act(action)
        return screen

    def _push(self, screen_id: str, title: str, **params: Any) -> None:
        self._stack.append(_Frame(screen_id, title, params))

    def _replace(self, screen_id: str, title: str, **params: Any) -> None:
        self._stack[-1] = _Frame(screen_id, title, params)

    def _home(self) -> None:
        del self._stack[1:]

    def _open_menu_item(self, item: str) -> None:
        target = next(t for name, t, _ in self._menu_items(self._stack[-1].id) if name == item)
        title = _MENUS[target][0] if target in _MENUS else item
        self._push(target, title)

    def _dismiss(self, message: str) -> None:
        """OK on a message: it goes; a Serverless success also saves the user's completed sign-in (never an
        administrator's sign-in pending on Web Config, which only Web Config's OK saves)."""
        if message == SERVERLESS_SUCCESS_MESSAGE:
            with self.device.lock:
                done = [s for s, p in self.device.pending.items()
                        if s.startswith(user_slot("")) and p.state == "signed_in"]
            for slot in done:
                self.services.confirm_signin(slot)
        with self.device.lock:
            signins = dict(self.device.signins)
        for slot, signin in signins.items():
            if self.services.expiry_notice(slot) == message:
                self._dismissed[message] = (slot, signin.last_used_at)
        self.device.clear_panel_message(message)

    def _on_home(self, frame: _Frame, action: str, args: dict[str, str]) -> None:
        if action == "Settings":
            if self._locked():
                self._push("admin_login", "Administrator Login", then="settings")
            else:
                self._push("settings", "Settings")
        elif action == "Lock":
            self._push("admin_login", "Administrator Login", then=None)
        elif action == "Log Out":
            self._admin = False
        elif action == "Scan to Email":
            self._push("scan_to_email", "Scan to Email")
            if "to" in args:
                self._on_scan_to_email(self._stack[-1], "Recipient", args)
        elif action == "Fax":
            self._push("fax", "Fax")
            if "to" in args:
                self._on_fax(self._stack[-1], "Recipient", args)
        elif action == "Scan to My Email":
            self._scan_to_my_email(self._required(args, "user_id"))

    def _on_admin_login(self, frame: _Frame, action: str, args: dict[str, str]) -> None:
        if action == "Cancel":
            self._stack.pop()
            return
        password = args.get("password", "")
        if not hmac.compare_digest(password.encode(), self.device.config.admin_password.encode()):
            frame.params["error"] = "The password is incorrect."
            return
        self._admin = True
        then = frame.params.get("then")
        if then is None:
            self._stack.pop()
        else:
            self._replace(then, _MENUS[then][0])

    def _on_scan_to_email(self, frame: _Frame, action: str, args: dict[str, str]) -> None:
        self._on_destination(frame, action, args, self.services.scan_to_email)

    def _on_fax(self, frame: _Frame, action: str, args: dict[str, str]) -> None:
        self._on_destination(frame, action, args, self.services.fax_via_server)

    def _on_destination(self, frame: _Frame, action: str, args: dict[str, str], send: Any) -> None:
        if action == "Recipient":
            to = self._required(args, "to").strip()
            if _ADDRESS.match(to):
                frame.params.update(to=to, error="")
            else:
                frame.params["error"] = "Enter a valid email address."
            return
        job = send(frame.params["to"])
        self._replace("job_result", frame.title, job=job)

    def _on_job_result(self, frame: _Frame, action: str, args: dict[str, str]) -> None:
        self.device.clear_panel_message(NOT_SIGNED_IN_MESSAGE)
        self._home()

    def _on_print_status_sheet(self, frame: _Frame, action: str, args: dict[str, str]) -> None:
        if action == "Cancel" or frame.params.get("printed"):
            self._stack.pop()
            return
        self._status_sheet = render_status_sheet(self.device)
        frame.params["printed"] = True

    def _scan_to_my_email(self, user_id: str) -> None:
        users = {u.user_id: u for u in self.device.config.serverless.users}
        if user_id not in users:
            self._push("notice", "Scan to My Email", text="The user is not registered.")
            return
        outcome = self.services.scan_to_my_email(user_id)
        if isinstance(outcome, PendingSignIn):
            self._push("signin", "Sign In", slot=outcome.slot)
        else:
            self._push("job_result", "Scan to My Email", job=outcome)

    def _on_signin(self, frame: _Frame, action: str, args: dict[str, str]) -> None:
        slot = frame.params["slot"]
        pending = self._pending(frame)
        if action == "OK" and pending is not None and pending.state == "signed_in":
            self.services.confirm_signin(slot)
            self.device.clear_panel_message(SERVERLESS_SUCCESS_MESSAGE)
        elif pending is not None:
            self.services.cancel_signin(slot)
        self._home()

    def _on_notice(self, frame: _Frame, action: str, args: dict[str, str]) -> None:
        self._stack.pop()

    @staticmethod
    def _required(args: dict[str, str], name: str) -> str:
        value = args.get(name)
        if not value:
            raise PanelError(f"this action needs {name}=...")
        return value


__all__ = ["HOME", "STALE_STATUS_DEFECT", "Panel", "PanelError", "PanelScreen", "PanelServices"]
