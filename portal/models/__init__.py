"""Typed SQLAlchemy 2 models, one module per aggregate."""

from portal.models import page_versions  # noqa: F401  (the flush hook)
from portal.models.archive import ArchivedSignalCount
from portal.models.audit import AuditRecord
from portal.models.base import Base, utcnow
from portal.models.casework import (
    Absence,
    DigestRun,
    Escalation,
    Functionary,
    Partner,
    PartnerShare,
    ResponseTarget,
    SignalAccess,
    partner_wijken,
)
from portal.models.dialogue import InboundMail, ReopenRequest, ReplyAddress, SatisfactionSurvey
from portal.models.dossiers import Dossier, DossierEvent, SignalLink
from portal.models.geo import Buurt, Wijk
from portal.models.inbox_counts import InboxCount
from portal.models.initiatives import BudgetChange, Grant, LadderStep, WijkBudget
from portal.models.jobs import JobLock
from portal.models.neighbourhood import SignalFollower, StaffProfile, WijkAlert, WijkNews
from portal.models.outbox import OutboxMessage
from portal.models.routing import GENERAL_INBOX, RoutingRule
from portal.models.signal import (
    Attachment,
    ReferenceCounter,
    Reporter,
    Signal,
    SignalEvent,
    SignalTheme,
    StatusToken,
)
from portal.models.standard_text import StandardText
from portal.models.steering_counts import SteeringCount
from portal.models.thermometer import ThermometerSnapshot
from portal.models.user import PasswordLink, RecoveryCode, Role, Setting, User, user_wijken

__all__ = [
    "GENERAL_INBOX",
    "Absence",
    "ArchivedSignalCount",
    "Attachment",
    "AuditRecord",
    "Base",
    "BudgetChange",
    "Buurt",
    "DigestRun",
    "Dossier",
    "DossierEvent",
    "Escalation",
    "Functionary",
    "Grant",
    "InboundMail",
    "InboxCount",
    "JobLock",
    "LadderStep",
    "OutboxMessage",
    "Partner",
    "PartnerShare",
    "PasswordLink",
    "RecoveryCode",
    "ReferenceCounter",
    "ReopenRequest",
    "ReplyAddress",
    "Reporter",
    "ResponseTarget",
    "Role",
    "RoutingRule",
    "SatisfactionSurvey",
    "Setting",
    "Signal",
    "SignalAccess",
    "SignalEvent",
    "SignalFollower",
    "SignalLink",
    "SignalTheme",
    "StaffProfile",
    "StandardText",
    "StatusToken",
    "SteeringCount",
    "ThermometerSnapshot",
    "User",
    "Wijk",
    "WijkAlert",
    "WijkBudget",
    "WijkNews",
    "partner_wijken",
    "user_wijken",
    "utcnow",
]
