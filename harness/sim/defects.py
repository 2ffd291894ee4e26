"""The catalogue of firmware defects a virtual device can be given, to prove the suites catch them.

Each defect is switched on per device in the inventory (``defects: [name, ...]``). The module that
implements a defect names it with a ``*_DEFECT`` constant equal to the catalogue's name; a test keeps the two
in step. Every effect is observable from outside (Web Config, SNMP, panel, mail, job history).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Defect:
    """One realistic firmware bug: its name, what goes wrong, where it shows, the guide section it breaks."""

    name: str
    summary: str
    observable: str
    guide: str


CATALOGUE: tuple[Defect, ...] = (
    Defect("signin_not_saved_after_ok",
           "Web Config shows Signed in, but clicking OK does not store the sign-in on the device.",
           "Web Config Current Status after reload, panel Email Server Status, status sheet, failed send (370)",
           "§3 step 12, §7"),
    Defect("signin_saved_without_ok",
           "The sign-in is stored as soon as it completes, before the administrator clicks OK.",
           "panel Email Server Status and status sheet show Signed in before OK", "§3 step 12"),
    Defect("access_token_never_refreshed",
           "The device keeps using its first access token after it expires instead of refreshing it.",
           "send after the token lifetime fails (535 5.7.3, job error)", "§7 (token expiry)"),
    Defect("refresh_token_not_rotated",
           "The device discards the new refresh token of each refresh and reuses the first one.",
           "sending fails 90 days after the sign-in even though the device was used daily", "§7 (about to expire)"),
    Defect("certificate_validation_ignored",
           "Certificate Validation is shown Enabled but the server certificate is never checked.",
           "send succeeds through an untrusted server certificate; no 360", "§7 (certificates)"),
    Defect("starttls_skipped",
           "Secure Connection STARTTLS is set but the device sends without upgrading the connection.",
           "SMTP transcript: AUTH without STARTTLS, refused by Exchange; job error", "§7 (settings)"),
    Defect("expired_signin_reported_as_370",
           "An expired sign-in (refresh token past 90 idle days) is recorded as 370 instead of 361.",
           "job history error code", "§7 (error codes)"),
    Defect("oauth2_on_extended_network",
           "OAuth2 can be set while the extended network is selected.",
           "Web Config accepts the setting without the refusal message", "§3 (caution)"),
    Defect("status_sheet_omits_email_section",
           "The printed network status sheet has no Email Server Status section.",
           "status sheet PDF", "§4"),
    Defect("panel_stale_status",
           "The panel's Email Server Status keeps showing the status from the device's start-up.",
           "panel Email Server Status disagrees with Web Config after a sign-in or sign-out", "§4"),
)

NAMES: frozenset[str] = frozenset(d.name for d in CATALOGUE)


def get_defect(name: str) -> Defect:
    """The catalogue entry for ``name``; KeyError names the known defects."""
    for defect in CATALOGUE:
        if defect.name == name:
            return defect
    raise KeyError(f"unknown defect {name!r}; known: {', '.join(sorted(NAMES))}")
