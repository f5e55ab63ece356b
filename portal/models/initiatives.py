"""What Bureau Wijkzaken keeps of residents' initiatives: the steps on the participation
ladder (who moved it, when and why), and the small yearly budget per wijk with its grants.

The budget is a ledger: amounts are never changed afterwards. A new yearly amount is a new
BudgetChange; a correction or withdrawal of a grant is a new Grant that reverses it (a
negative amount pointing at the original), so every total can be recomputed from the rows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.geo import Wijk
from portal.models.user import User


class LadderStep(Base):
    """One move of an initiative on the participation ladder; never changed afterwards."""

    __tablename__ = "ladder_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"), index=True)
    from_rung: Mapped[str | None] = mapped_column(String(30))
    to_rung: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship()


class WijkBudget(Base):
    """A wijk's budget for initiatives in one calendar year. ``amount_cents`` is the latest
    BudgetChange; ``lock_version`` is bumped by every grant first, so concurrent grants on the
    same budget queue behind each other (row lock on PostgreSQL, write lock on SQLite) and
    each sees what the previous one spent."""

    __tablename__ = "wijk_budgets"
    __table_args__ = (UniqueConstraint("wijk_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wijk_code: Mapped[str] = mapped_column(ForeignKey("wijken.code"))
    year: Mapped[int]
    amount_cents: Mapped[int] = mapped_column(default=0)
    lock_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    wijk: Mapped[Wijk] = relationship()
    changes: Mapped[list[BudgetChange]] = relationship(
        order_by="BudgetChange.id", back_populates="budget"
    )
    grants: Mapped[list[Grant]] = relationship(order_by="Grant.id", back_populates="budget")


class BudgetChange(Base):
    """The yearly amount set or changed by an admin, with the reason; never changed."""

    __tablename__ = "budget_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("wijk_budgets.id"), index=True)
    previous_cents: Mapped[int]
    amount_cents: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    budget: Mapped[WijkBudget] = relationship(back_populates="changes")
    actor: Mapped[User | None] = relationship()


class Grant(Base):
    """Support for an initiative from its wijk's budget (vocabulary.GrantState). The amount is
    positive; a reversal has a negative amount and ``reverses_id``. Only the state moves:
    requested -> granted (approved by a second person) or refused, or withdrawn."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("wijk_budgets.id"), index=True)
    # The initiative; kept (None) if the signal is ever destroyed, so the ledger still adds up.
    signal_id: Mapped[int | None] = mapped_column(
        ForeignKey("signals.id", ondelete="SET NULL"), index=True
    )
    amount_cents: Mapped[int]
    purpose: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[date]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20))
    # The second person who approved or refused a requested grant, and when.
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    # Why it was refused, withdrawn or reversed (None for a plain grant).
    reason: Mapped[str | None] = mapped_column(Text)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("grants.id"))
    # An admin let it exceed what remained, and why.
    override_reason: Mapped[str | None] = mapped_column(Text)
    # The initiators see that support was granted; the amount only when this is set.
    show_amount: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    budget: Mapped[WijkBudget] = relationship(back_populates="grants")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    reverses: Mapped[Grant | None] = relationship(remote_side=[id])
