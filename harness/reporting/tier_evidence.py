"""What the built-in Microsoft tier saw during a test, kept as evidence: the SMTP sessions of the devices' sends
(the tier's transcripts, already redacted by the SMTP server) and the identity provider's sign-in log entries.

The tier keeps both for the whole run; :meth:`TierEvidence.attach_new` attaches what appeared since its last
call, so each test gets the sessions and sign-ins that happened while it (and its fixtures) ran.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from harness.msft.control_client import ControlApiError, TierControl
from harness.reporting import evidence
from harness.reporting.record import AttachmentKind


class TierEvidence:
    """Attaches the tier's new SMTP transcripts and sign-in log entries to the current test."""

    def __init__(self, control: TierControl) -> None:
        self.control = control
        self._sessions: set[str] = set()
        self._signins: set[str] = set()

    def attach_new(self) -> None:
        """Attach the closed SMTP sessions and the sign-ins the tier recorded since the last call."""
        try:
            sessions = [s for s in self.control.smtp_transcripts()
                        if s.get("closed") and s["session_id"] not in self._sessions]
            signins = [e for e in self.control.signins() if e["correlation_id"] not in self._signins]
        except (requests.RequestException, ControlApiError):
            return  # evidence is best effort: a tier that cannot answer fails its own tests, not this one
        if sessions:
            self._sessions.update(s["session_id"] for s in sessions)
            evidence.attach(f"SMTP transcript ({len(sessions)} session{'s' * (len(sessions) > 1)})",
                            format_transcripts(sessions), AttachmentKind.SMTP_TRANSCRIPT, media_type="text/plain",
                            extension="txt")
        if signins:
            self._signins.update(e["correlation_id"] for e in signins)
            evidence.attach(f"sign-in log ({len(signins)} entr{'ies' if len(signins) > 1 else 'y'})",
                            json.dumps(signins, indent=2), AttachmentKind.SIGNIN_LOG,
                            media_type="application/json", extension="json")

    def skip_existing(self) -> None:
        """Count everything the tier holds now as seen (what happened before this process's first test)."""
        self._sessions.clear()
        self._signins.clear()
        try:
            self._sessions.update(s["session_id"] for s in self.control.smtp_transcripts() if s.get("closed"))
            self._signins.update(e["correlation_id"] for e in self.control.signins())
        except (requests.RequestException, ControlApiError):
            pass


def format_transcripts(sessions: list[dict[str, Any]]) -> str:
    """SMTP sessions as a person reads them: a header per session, then ``C:``/``S:`` lines with times."""
    marks = {"client": "C:", "server": "S:", "event": "--"}
    out: list[str] = []
    for session in sessions:
        out.append(f"=== session {session['session_id']} from {session.get('peer', '?')} to "
                   f"{session.get('server_name', '?')} at {session.get('started_at', '?')}")
        senders = ", ".join(session.get("envelope_senders", [])) or "-"
        recipients = ", ".join(session.get("recipients", [])) or "-"
        out.append(f"    TLS: {'yes' if session.get('tls') else 'no'}; authenticated as: "
                   f"{session.get('authenticated_as') or '-'}; from: {senders}; to: {recipients}")
        for line in session.get("lines", []):
            out.append(f"{line.get('t', 0):9.3f}  {marks.get(line.get('from', ''), '??')} {line.get('text', '')}")
        if session.get("dropped_lines"):
            out.append(f"    ... {session['dropped_lines']} more lines not kept by the tier")
        out.append("")
    return "\n".join(out)
