"""Who may do what in the back office. Roles: admin (everything), accountmanager (works
signals), management (reads everything, changes nothing)."""

from __future__ import annotations

from portal.models import Role, Signal, User

STAFF = frozenset({Role.ADMIN, Role.ACCOUNTMANAGER, Role.MANAGEMENT})
WORKERS = frozenset({Role.ADMIN, Role.ACCOUNTMANAGER})
ADMINS = frozenset({Role.ADMIN})


def can_work(user: User) -> bool:
    return user.role in WORKERS


def may_manage_sensitive(user: User, signal: Signal) -> bool:
    """Who decides about a sensitive signal (who sees it, who owns it): its owner or an admin.
    A colleague let in, or a stand-in, may work on it but not hand it to someone else."""
    return user.role == Role.ADMIN or (
        user.role == Role.ACCOUNTMANAGER and signal.owner_id == user.id
    )


def can_see_contact(user: User, signal: Signal) -> bool:
    """The resident's details are for the owner and admins only (data minimisation)."""
    return user.role == Role.ADMIN or (
        user.role == Role.ACCOUNTMANAGER and signal.owner_id == user.id
    )
