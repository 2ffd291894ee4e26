"""The shared state of one running Microsoft tier: tenant, clock, tokens, mailboxes, sign-in log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from harness.clock import Clock, VirtualClock
from harness.msft.mailstore import MailStore
from harness.msft.tenant import SignInLog, Tenant
from harness.msft.tokens import TokenService


@dataclass
class TierState:
    """Everything the identity provider, SMTP server and control API share; one per running tier."""

    tenant: Tenant
    clock: Clock = field(default_factory=VirtualClock)
    mail: MailStore = field(default_factory=MailStore)
    signins: SignInLog = field(default_factory=SignInLog)
    tokens: TokenService = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenService(self.tenant, self.clock)

    @contextmanager
    def restoring(self) -> Iterator[Tenant]:
        """Yield the live tenant; afterwards put back every switch, grant and policy, and the revocations."""
        saved = self.tenant.model_copy(deep=True)
        revoked = dict(self.tokens.revocations.revoked_at)
        try:
            yield self.tenant
        finally:
            for name in type(self.tenant).model_fields:
                setattr(self.tenant, name, getattr(saved, name))
            self.tokens.revocations.revoked_at.clear()
            self.tokens.revocations.revoked_at.update(revoked)
