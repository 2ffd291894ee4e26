"""The browser side of the device code flow: Enter code, Sign in, Enter password, Permissions requested.

A browser's progress is a server-side flow, found again through the ``flowToken`` hidden field of each form
(nothing secret travels in a URL). Every outcome reaches the device's next poll through its authorization.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from harness.msft import errors
from harness.msft.errors import PAGE_MESSAGES, Aadsts
from harness.msft.identity import pages
from harness.msft.identity.audit import DEVICE_CODE_FLOW, record_signin
from harness.msft.identity.devicecodes import DeviceAuthorization, DeviceCodeStore, Status
from harness.msft.identity.wire import Malformed, read_form
from harness.msft.state import TierState
from harness.msft.tenant import AppRegistration

DEVICEAUTH_URL = "https://login.microsoftonline.com/common/oauth2/deviceauth"
#: Host names at which Microsoft answers /devicelogin with a redirect to the login host.
REDIRECTING_HOSTS = frozenset({"microsoft.com", "www.microsoft.com"})
MAX_FLOWS = 1000
FIELD_LIMIT = 256

Stage = Literal["username", "password", "consent"]


@dataclass
class SignInFlow:
    """One browser's way through the pages for one device authorization."""

    auth: DeviceAuthorization
    stage: Stage = "username"
    upn: str = ""


class SignInFlows:
    """Flows by the digest of their token; the oldest are dropped beyond :data:`MAX_FLOWS`."""

    def __init__(self) -> None:
        self._flows: OrderedDict[str, SignInFlow] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def start(self, auth: DeviceAuthorization) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._flows[self._key(token)] = SignInFlow(auth)
            while len(self._flows) > MAX_FLOWS:
                self._flows.popitem(last=False)
        return token

    def get(self, token: str) -> SignInFlow | None:
        with self._lock:
            return self._flows.get(self._key(token[:FIELD_LIMIT]))

    def end(self, token: str) -> None:
        with self._lock:
            self._flows.pop(self._key(token[:FIELD_LIMIT]), None)


def unreadable_form_shows_code_page(
        handler: Callable[[SignInPages, Request], Awaitable[Response]],
) -> Callable[[SignInPages, Request], Awaitable[Response]]:
    """A body that cannot be read at all starts the person over at Enter code (400), never a 500."""

    async def wrapped(self: SignInPages, request: Request) -> Response:
        try:
            return await handler(self, request)
        except Malformed:
            return pages.enter_code(pages.SESSION_LOST, status=400)

    return wrapped


class SignInPages:
    """The page endpoints over one tier's state and device codes."""

    def __init__(self, state: TierState, codes: DeviceCodeStore) -> None:
        self.state = state
        self.codes = codes
        self.flows = SignInFlows()

    async def devicelogin(self, request: Request) -> Response:
        """``/devicelogin``: Microsoft redirects to the login host; reached directly (localhost) it is the page."""
        host = request.headers.get("host", "").lower()
        if host.partition(":")[0] in REDIRECTING_HOSTS:
            return RedirectResponse(DEVICEAUTH_URL, status_code=302)
        return pages.enter_code()

    async def deviceauth(self, request: Request) -> Response:
        return pages.enter_code()

    @unreadable_form_shows_code_page
    async def submit_code(self, request: Request) -> Response:
        form = await read_form(request)
        typed = form.get("otc", "").strip()
        if not typed:
            return pages.enter_code(pages.EMPTY_CODE)
        auth = self.codes.by_user_code(typed)
        if auth is None:
            return pages.enter_code(pages.UNKNOWN_CODE)
        app = self.state.tenant.app(auth.client_id)
        if app is None or not self._still_open(auth):
            return pages.enter_code(PAGE_MESSAGES[errors.BAD_VERIFICATION_CODE.code])
        return pages.sign_in(self.flows.start(auth), app)

    @unreadable_form_shows_code_page
    async def submit_login(self, request: Request) -> Response:
        form = await read_form(request)
        token = form.get("flowToken", "")
        flow = self.flows.get(token)
        if flow is None:
            return pages.enter_code(pages.SESSION_LOST)
        app = self.state.tenant.app(flow.auth.client_id)
        if app is None or not self._still_open(flow.auth):
            self.flows.end(token)
            return pages.enter_code(PAGE_MESSAGES[errors.BAD_VERIFICATION_CODE.code])
        if flow.stage == "username":
            return self._username(token, flow, app, form.get("loginfmt", "").strip()[:FIELD_LIMIT])
        if flow.stage == "password":
            return self._password(token, flow, app, form.get("passwd", "")[:FIELD_LIMIT])
        return self._consent(token, flow, app, form.get("action", ""), form.get("orgConsent") == "on")

    # --- stages -----------------------------------------------------------------------------------------
    def _username(self, token: str, flow: SignInFlow, app: AppRegistration, typed: str) -> Response:
        if not typed:
            return pages.sign_in(token, app, pages.EMPTY_USERNAME)
        user = self.state.tenant.user(typed)
        if user is None:
            record_signin(self.state, typed, app.client_id, DEVICE_CODE_FLOW, errors.UNKNOWN_USER)
            return pages.sign_in(token, app, PAGE_MESSAGES[errors.UNKNOWN_USER.code], typed)
        flow.upn, flow.stage = user.upn, "password"
        return pages.enter_password(token, user.upn)

    def _password(self, token: str, flow: SignInFlow, app: AppRegistration, password: str) -> Response:
        if not password:
            return pages.enter_password(token, flow.upn, pages.EMPTY_PASSWORD)
        tenant = self.state.tenant
        user = tenant.user(flow.upn)
        if user is None or not user.enabled:
            record_signin(self.state, flow.upn, app.client_id, DEVICE_CODE_FLOW, errors.ACCOUNT_DISABLED)
            return pages.enter_password(token, flow.upn, PAGE_MESSAGES[errors.ACCOUNT_DISABLED.code])
        if not secrets.compare_digest(password.encode("utf-8", "surrogatepass"), user.password.encode()):
            record_signin(self.state, user.upn, app.client_id, DEVICE_CODE_FLOW, errors.BAD_CREDENTIALS)
            return pages.enter_password(token, user.upn, PAGE_MESSAGES[errors.BAD_CREDENTIALS.code])
        policy = tenant.blocking_policy(user.upn, DEVICE_CODE_FLOW)
        if policy is not None:
            return self._refuse(token, flow, app, errors.CONDITIONAL_ACCESS, policy=policy.name)
        if tenant.has_consent(app.client_id, user.upn, flow.auth.scopes):
            return self._complete(token, flow, app)
        if not user.is_consent_admin:
            return self._refuse(token, flow, app, errors.CONSENT_REQUIRED)
        flow.stage = "consent"
        return pages.permissions(token, app, user.upn, flow.auth.scopes, org_checkbox=True)

    def _consent(self, token: str, flow: SignInFlow, app: AppRegistration, action: str, for_org: bool) -> Response:
        if action == "cancel":
            record_signin(self.state, flow.upn, app.client_id, DEVICE_CODE_FLOW, errors.AUTHORIZATION_DECLINED)
            self.codes.refuse(flow.auth, None, flow.upn)
            self.flows.end(token)
            return pages.declined(app)
        user = self.state.tenant.user(flow.upn)
        if action != "accept" or user is None:
            return pages.permissions(token, app, flow.upn, flow.auth.scopes, org_checkbox=True,
                                     message=pages.CHOOSE_ANSWER)
        self.state.tenant.grant_consent(app.client_id, flow.auth.scopes, user.upn,
                                        on_behalf_of_org=for_org and user.is_consent_admin)
        return self._complete(token, flow, app)

    # --- outcomes ---------------------------------------------------------------------------------------
    def _complete(self, token: str, flow: SignInFlow, app: AppRegistration) -> Response:
        self.flows.end(token)
        if not self.codes.approve(flow.auth, flow.upn, self.state.clock.now()):
            return pages.enter_code(PAGE_MESSAGES[errors.BAD_VERIFICATION_CODE.code])
        record_signin(self.state, flow.upn, app.client_id, DEVICE_CODE_FLOW)
        return pages.signed_in(app)

    def _refuse(self, token: str, flow: SignInFlow, app: AppRegistration, err: Aadsts, policy: str = "") -> Response:
        record_signin(self.state, flow.upn, app.client_id, DEVICE_CODE_FLOW, err, policy=policy)
        self.codes.refuse(flow.auth, err, flow.upn)
        self.flows.end(token)
        return pages.refused(err, flow.upn, self.state.clock.now())

    def _still_open(self, auth: DeviceAuthorization) -> bool:
        return auth.status is Status.PENDING and not auth.expired(self.state.clock.now())
