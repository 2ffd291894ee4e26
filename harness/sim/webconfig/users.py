"""The rules a registered Epson Print Admin Serverless user must satisfy (the page and the import share them)."""

from __future__ import annotations

import re

MAX_USERS = 100
BAD_USER_ID = "Enter the User ID using 1 to 32 characters: A-Z a-z 0-9 . _ - @"
BAD_USER_NAME = "Enter the User Name using 1 to 40 characters."
BAD_USER_EMAIL = "Enter a valid Email Address using up to 255 ASCII characters."
DUPLICATE_USER = "The User ID is already registered."
TOO_MANY_USERS = f"Up to {MAX_USERS} users can be registered. Delete a user and try again."

_USER_ID = re.compile(r"^[A-Za-z0-9._@\-]{1,32}$")
_ATOM = r"[!#-'*+\-/-9=?A-Z^-~]+"
_EMAIL = re.compile(rf"^{_ATOM}(\.{_ATOM})*@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")


def user_errors(user_id: str, name: str, email: str) -> list[str]:
    """Why a user cannot be registered; empty when the user is acceptable."""
    errors = []
    if not _USER_ID.match(user_id):
        errors.append(BAD_USER_ID)
    if not 1 <= len(name) <= 40 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        errors.append(BAD_USER_NAME)
    if len(email) > 255 or not _EMAIL.match(email):
        errors.append(BAD_USER_EMAIL)
    return errors


def duplicate_ids(user_ids: list[str]) -> bool:
    lowered = [u.lower() for u in user_ids]
    return len(set(lowered)) != len(lowered)
