"""What an admin changes about the map of responsibility: who owns each wijk (and the general
inbox), and the names of wijken and buurten.

A routing rule only decides where *new* signals go; existing signals keep their owner. Names
can change, codes never do: signals, accounts and rules refer to the stable CBS codes, so a
rename changes every page at once and leaves the history intact."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.intake import load_routing_rules
from portal.domain.users import OWNER_ROLES
from portal.models import GENERAL_INBOX, Buurt, RoutingRule, User, Wijk

NAME_MAX = 100


class RoutingError(ValueError):
    """The change cannot be made; ``code`` says why (the web layer words it). ``scope`` is
    the wijk code (or GENERAL_INBOX) or the wijk/buurt code the error is about;
    ``problems`` lists every (scope, code) when several rules were checked at once."""

    def __init__(
        self,
        code: str,
        scope: str | None = None,
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.scope = scope
        self.problems = problems if problems is not None else ([(scope, code)] if scope else [])


# --- routing rules -------------------------------------------------------------------------


def _check_rule(session: Session, scope: str, owner_id: int | None) -> None:
    if scope != GENERAL_INBOX and session.get(Wijk, scope) is None:
        raise RoutingError("unknown_scope", scope)
    if owner_id is None:
        if scope == GENERAL_INBOX:
            raise RoutingError("general_needs_owner", scope)
        return
    owner = session.get(User, owner_id)
    if owner is None:
        raise RoutingError("unknown_owner", scope)
    if not owner.active:
        raise RoutingError("owner_inactive", scope)
    if owner.role not in OWNER_ROLES:
        raise RoutingError("owner_role", scope)


def _apply_rule(session: Session, scope: str, owner_id: int | None, actor_id: int) -> bool:
    rule = session.get(RoutingRule, scope)
    previous = rule.owner_id if rule is not None else None
    if previous == owner_id:
        return False
    if owner_id is None:
        assert rule is not None
        session.delete(rule)
        action = "routing.removed"
    elif rule is None:
        session.add(RoutingRule(scope=scope, owner_id=owner_id))
        action = "routing.created"
    else:
        rule.owner_id = owner_id
        action = "routing.changed"
    session.flush()
    audit.record(
        session,
        action,
        actor_id=actor_id,
        scope=scope,
        from_owner_id=previous,
        to_owner_id=owner_id,
    )
    return True


def set_routing_rule(session: Session, scope: str, owner_id: int | None, actor_id: int) -> bool:
    """Makes ``owner_id`` the owner of new signals of ``scope`` (a wijk code or
    GENERAL_INBOX). ``None`` removes a wijk's rule (its signals then go to the general inbox);
    the general inbox always needs an owner. The owner must be an active accountmanager or
    admin. Returns whether anything changed."""
    _check_rule(session, scope, owner_id)
    return _apply_rule(session, scope, owner_id, actor_id)


def set_routing_rules(
    session: Session, owners: Mapping[str, int | None], actor_id: int
) -> list[str]:
    """Several rules at once (the routing page is one form): all are checked first, so
    either every change is made or none. Returns the scopes that changed."""
    problems: list[tuple[str, str]] = []
    for scope, owner_id in owners.items():
        try:
            _check_rule(session, scope, owner_id)
        except RoutingError as error:
            problems.append((scope, error.code))
    if problems:
        scope, code = problems[0]
        raise RoutingError(code, scope, problems)
    return [
        scope
        for scope, owner_id in owners.items()
        if _apply_rule(session, scope, owner_id, actor_id)
    ]


# --- names of wijken and buurten -------------------------------------------------------------


def _clean_name(name: str, code: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise RoutingError("name_required", code)
    if len(name) > NAME_MAX:
        raise RoutingError("name_too_long", code)
    return name


def rename_wijk(session: Session, code: str, name: str, actor_id: int) -> bool:
    """Gives a wijk a new name (its code stays). Two wijken cannot share a name, or a
    resident could not tell them apart. Returns whether the name changed."""
    wijk = session.get(Wijk, code)
    if wijk is None:
        raise RoutingError("unknown_wijk", code)
    name = _clean_name(name, code)
    if name == wijk.name:
        return False
    taken = session.scalar(
        select(Wijk.code).where(func.lower(Wijk.name) == name.lower(), Wijk.code != code)
    )
    if taken is not None:
        raise RoutingError("name_taken", code)
    previous, wijk.name = wijk.name, name
    session.flush()
    audit.record(session, "wijk.renamed", actor_id=actor_id, code=code, old=previous, new=name)
    return True


def rename_buurt(session: Session, code: str, name: str, actor_id: int) -> bool:
    """Gives a buurt a new name (its code and wijk stay). Two buurten of one wijk cannot
    share a name. Returns whether the name changed."""
    buurt = session.get(Buurt, code)
    if buurt is None:
        raise RoutingError("unknown_buurt", code)
    name = _clean_name(name, code)
    if name == buurt.name:
        return False
    taken = session.scalar(
        select(Buurt.code).where(
            func.lower(Buurt.name) == name.lower(),
            Buurt.wijk_code == buurt.wijk_code,
            Buurt.code != code,
        )
    )
    if taken is not None:
        raise RoutingError("name_taken", code)
    previous, buurt.name = buurt.name, name
    session.flush()
    audit.record(session, "buurt.renamed", actor_id=actor_id, code=code, old=previous, new=name)
    return True


def wijken_without_owner(session: Session) -> list[Wijk]:
    """Wijken whose new signals reach nobody of their own: no routing rule and no active
    accountmanager (they go to the general inbox). Admins are warned about them."""
    rules = load_routing_rules(session)
    wijken = session.scalars(select(Wijk).order_by(Wijk.name))
    return [
        w for w in wijken if w.code not in rules.by_wijk and not rules.managers_by_wijk.get(w.code)
    ]
