"""Part of the signal page (templates/backoffice/signal/): the response and handling due
dates with their late marks, the pause while the signal waits for the resident, and the
follow-up reason. Also the deadline settings from the configuration, for every view that
needs them (inbox, signal page, admin targets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app

from portal.backoffice.signal_page import page_part
from portal.domain import deadlines
from portal.domain.deadlines import DeadlineRules
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import Signal


def deadline_rules() -> DeadlineRules:
    config = current_app.config
    return DeadlineRules(
        respond_working_days=int(config["RESPONSE_WORKING_DAYS"]),
        handle_working_days=int(config["HANDLE_WORKING_DAYS"]),
        pause_while_awaiting_resident=bool(config["PAUSE_WHILE_AWAITING_RESIDENT"]),
    )


@dataclass(frozen=True)
class DeadlineInfo:
    is_open: bool
    respond_due_on: date | None
    responded_at: datetime | None
    respond_late: bool
    handle_due_on: date | None
    handle_late: bool
    far_overdue: bool
    far_overdue_on: date | None
    paused: bool  # waiting for the resident with the handling clock stopped
    awaiting_since: datetime | None
    follow_up_due: bool

    @property
    def shown(self) -> bool:
        return self.respond_due_on is not None or self.handle_due_on is not None


def deadline_info(signal: Signal, *, now: datetime | None = None) -> DeadlineInfo:
    rules = deadline_rules()
    targets = deadlines.load_targets(db.session, rules)
    today = local_date(now or datetime.now(UTC))
    return DeadlineInfo(
        is_open=deadlines.is_open(signal),
        respond_due_on=signal.respond_due_on,
        responded_at=signal.responded_at,
        respond_late=deadlines.respond_late(signal, today),
        handle_due_on=signal.handle_due_on,
        handle_late=deadlines.handle_late(signal, today, rules),
        far_overdue=deadlines.far_overdue(signal, today, targets),
        far_overdue_on=deadlines.far_overdue_on(signal, targets),
        paused=deadlines.is_open(signal) and deadlines.clock_paused(signal, rules),
        awaiting_since=signal.awaiting_since,
        follow_up_due=deadlines.follow_up_due(signal, today),
    )


@page_part
def page_context(signal: Signal) -> dict[str, Any]:
    info = deadline_info(signal)
    return {"deadline_info": info, "signal_is_open": info.is_open}
