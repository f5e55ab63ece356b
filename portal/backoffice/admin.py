"""Admin screens: staff accounts, routing rules, standard texts, names of wijken and buurten.

Every view is for admins only. Views are thin: parse the form, call one domain operation,
commit, flash, redirect (303). A refused change comes back filled in, with an error summary,
as 422."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import Field, Form

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin_forms import (
    ROLE_HINTS,
    ROLE_LABELS,
    EditUserForm,
    NewUserForm,
    RenameForm,
    StandardTextForm,
    make_routing_form,
    routing_field_name,
    set_wijk_choices,
)
from portal.domain import two_factor
from portal.domain.ids import parse_id
from portal.domain.password_links import invite_user
from portal.domain.passwords import UNUSABLE_PREFIX
from portal.domain.routing_admin import NAME_MAX as PLACE_NAME_MAX
from portal.domain.routing_admin import (
    RoutingError,
    rename_buurt,
    rename_wijk,
    set_routing_rules,
    wijken_without_owner,
)
from portal.domain.standard_texts import PLACEHOLDERS, TextError, save_text
from portal.domain.users import (
    NAME_MAX,
    OWNER_ROLES,
    UserError,
    open_signal_count,
    update_user,
)
from portal.extensions import db
from portal.models import GENERAL_INBOX, Buurt, Role, RoutingRule, StandardText, User, Wijk
from portal.public.services import mail_context
from portal.vocabulary import KIND_NAMES, STATUS_LABELS


def _add_error(field: Field, message: str) -> None:
    field.errors = [*field.errors, message]


def _done(message: str, endpoint: str, anchor: str | None = None, **values: Any) -> Any:
    db.session.commit()
    flash(message, "ok")
    url = url_for(endpoint, **values) + (f"#{anchor}" if anchor else "")
    return redirect(url, code=303)


def _wijk_choices() -> list[tuple[str, str]]:
    wijken = db.session.scalars(select(Wijk).order_by(Wijk.name)).all()
    return [(w.code, w.name) for w in wijken]


def _scope_name(scope: str) -> str:
    if scope == GENERAL_INBOX:
        return _("de algemene inbox")
    wijk = db.session.get(Wijk, scope)
    return _("wijk %(name)s", name=wijk.name if wijk else scope)


# --- overview ------------------------------------------------------------------------------


@bp.get("/beheer")
@roles_required(Role.ADMIN)
def admin_home():  # type: ignore[no-untyped-def]
    from portal.backoffice.admin_security import TwoFactorSettingForm

    return render_template(
        "backoffice/admin/home.html",
        nav="admin",
        unowned=wijken_without_owner(db.session),
        two_factor_form=TwoFactorSettingForm(formdata=None),
        two_factor_required=two_factor.required_for_all(db.session),
    )


# --- users ---------------------------------------------------------------------------------


def _user_error(form: NewUserForm | EditUserForm, error: UserError) -> None:
    """Puts the domain's refusal next to the field it is about."""
    code = error.code
    if code == "email_taken":
        _add_error(form.email, _("Er is al een account met dit e-mailadres."))
    elif code == "email_invalid":
        _add_error(form.email, _("Vul een geldig e-mailadres in, bijvoorbeeld naam@hilversum.nl."))
    elif code in ("name_required", "name_too_long"):
        _add_error(form.name, _("Vul een naam in van hoogstens %(max)d tekens.", max=NAME_MAX))
    elif code == "unknown_role":
        _add_error(form.role, _("Kies een rol."))
    elif code == "unknown_wijk":
        codes = ", ".join(str(c) for c in error.details.get("codes", []))  # type: ignore[attr-defined]
        _add_error(form.wijken, _("Deze wijk bestaat niet (meer): %(codes)s.", codes=codes))
    elif code == "self_lockout" and isinstance(form, EditUserForm):
        field = form.active if not form.active.data else form.role
        _add_error(
            field,
            _(
                "U kunt uw eigen account niet deactiveren en uzelf de rol beheerder niet "
                "afnemen. Vraag dat zo nodig aan een andere beheerder."
            ),
        )
    elif code == "owns_routing" and isinstance(form, EditUserForm):
        scopes = [str(s) for s in error.details.get("scopes", [])]  # type: ignore[attr-defined]
        field = form.active if not form.active.data else form.role
        _add_error(
            field,
            _(
                "Deze persoon is eigenaar van %(scopes)s in de routering. Kies daar eerst "
                "iemand anders, zodat nieuwe signalen niet verloren gaan.",
                scopes=", ".join(_scope_name(s) for s in scopes),
            ),
        )
    else:  # pragma: no cover - every code above; a new one still shows something
        _add_error(form.name, str(error))


def _render_users_form(template: str, form: Form, status: int, **context: Any) -> Any:
    errors = form.error_summary()
    for extra in context.get("extra_forms", ()):
        errors += extra.error_summary()
    return (
        render_template(
            template,
            form=form,
            errors=errors,
            role_hints=ROLE_HINTS,
            nav="admin",
            **context,
        ),
        status,
    )


@bp.get("/beheer/gebruikers")
@roles_required(Role.ADMIN)
def admin_users():  # type: ignore[no-untyped-def]
    users = db.session.scalars(
        select(User)
        .options(selectinload(User.wijken))
        .order_by(User.active.desc(), User.name, User.id)
    ).all()
    return render_template(
        "backoffice/admin/users.html", users=users, role_labels=ROLE_LABELS, nav="admin"
    )


@bp.route("/beheer/gebruikers/nieuw", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_user_new():  # type: ignore[no-untyped-def]
    form = NewUserForm()
    set_wijk_choices(form.wijken, _wijk_choices())
    if form.validate_on_submit():
        try:
            user = invite_user(
                db.session,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                wijk_codes=form.wijken.data or [],
                actor_id=current_user.id,
                now=datetime.now(UTC),
                mail=mail_context(),
            )
            return _done(
                _(
                    "Het account van %(name)s is aangemaakt. %(name)s krijgt een e-mail met een "
                    "link om zelf een wachtwoord te kiezen.",
                    name=user.name,
                ),
                "backoffice.admin_users",
            )
        except UserError as error:
            db.session.rollback()
            _user_error(form, error)
        except IntegrityError:  # the same address, added at the same moment by someone else
            db.session.rollback()
            _add_error(form.email, _("Er is al een account met dit e-mailadres."))
    status = 422 if request.method == "POST" else 200
    return _render_users_form("backoffice/admin/user_new.html", form, status)


def _edit_user_data(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "wijken": [w.code for w in user.wijken],
        "active": user.active,
    }


def _render_user_edit(user: User, form: EditUserForm, status: int) -> Any:
    return _render_users_form(
        "backoffice/admin/user_edit.html",
        form,
        status,
        user=user,
        open_signals=open_signal_count(db.session, user.id),
        is_self=user.id == current_user.id,
        waiting_for_password=user.password_hash.startswith(UNUSABLE_PREFIX),
    )


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)  # the route's converter keeps the id in range
    if user is None:
        abort(404)
    return user


@bp.route("/beheer/gebruikers/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_user_edit(user_id: int):  # type: ignore[no-untyped-def]
    user = _user_or_404(user_id)
    if request.method == "POST":
        form = EditUserForm()
    else:
        form = EditUserForm(formdata=None, data=_edit_user_data(user))
    set_wijk_choices(form.wijken, _wijk_choices())
    if form.validate_on_submit():
        try:
            update_user(
                db.session,
                user,
                name=form.name.data or "",
                email=form.email.data or "",
                role=form.role.data or "",
                wijk_codes=form.wijken.data or [],
                active=bool(form.active.data),
                actor_id=current_user.id,
            )
            return _done(
                _("De gegevens van %(name)s zijn opgeslagen.", name=user.name),
                "backoffice.admin_user_edit",
                user_id=user.id,
            )
        except UserError as error:
            db.session.rollback()
            _user_error(form, error)
        except IntegrityError:
            db.session.rollback()
            _add_error(form.email, _("Er is al een account met dit e-mailadres."))
        user = _user_or_404(user_id)
    status = 422 if request.method == "POST" else 200
    return _render_user_edit(user, form, status)


# --- routing -------------------------------------------------------------------------------

ROUTING_ERRORS = {
    "general_needs_owner": _l("De algemene inbox heeft altijd een eigenaar nodig."),
    "unknown_owner": _l("Deze persoon bestaat niet (meer). Kies iemand anders."),
    "owner_inactive": _l("Deze persoon is niet actief. Kies iemand anders."),
    "owner_role": _l(
        "Alleen een accountmanager of beheerder kan eigenaar zijn; management behandelt geen "
        "signalen."
    ),
    "unknown_scope": _l("Deze wijk bestaat niet (meer)."),
}


def _owner_label(user: User) -> str:
    if not user.active:
        return _("%(name)s (niet actief)", name=user.name)
    if user.role not in OWNER_ROLES:
        return _("%(name)s (%(role)s)", name=user.name, role=_(ROLE_LABELS[Role(user.role)]))
    return user.name


def _routing_page() -> tuple[Form, list[dict[str, Any]], dict[str, Any]]:
    """The one form of the routing page and what the template shows next to each select."""
    rules = {r.scope: r for r in db.session.scalars(select(RoutingRule))}
    candidates = db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_([r.value for r in OWNER_ROLES]))
        .order_by(User.name, User.id)
    ).all()
    wijken = db.session.scalars(select(Wijk).order_by(Wijk.code)).all()
    managers: dict[str, list[str]] = {w.code: [] for w in wijken}
    for user in db.session.scalars(
        select(User).options(selectinload(User.wijken)).where(User.active.is_(True))
    ):
        for wijk in user.wijken:
            managers.setdefault(wijk.code, []).append(user.name)

    def choices(scope: str) -> list[tuple[str, str]]:
        options = [(str(u.id), u.name) for u in candidates]
        current = rules.get(scope)
        if current is not None and all(int(v) != current.owner_id for v, _n in options):
            # Keep showing an owner who no longer qualifies, so the admin sees the problem.
            options.append((str(current.owner_id), _owner_label(current.owner)))
        if scope != GENERAL_INBOX:
            options.insert(0, ("", _("Geen eigenaar: naar de algemene inbox")))
        elif current is None or request.form.get(routing_field_name(scope)) == "":
            # Also when "nobody" came in, so the refused form shows what was sent.
            options.insert(0, ("", _("Kies een eigenaar")))
        return options

    scopes = [(GENERAL_INBOX, _("Eigenaar van de algemene inbox"), choices(GENERAL_INBOX))]
    scopes += [(w.code, w.name, choices(w.code)) for w in wijken]
    form = make_routing_form(scopes)
    if request.method == "GET":
        for scope, rule in rules.items():
            field = getattr(form, routing_field_name(scope), None)
            if field is not None:
                field.data = str(rule.owner_id)
    rows = [
        {
            "wijk": w,
            "field": getattr(form, routing_field_name(w.code)),
            "managers": sorted(managers.get(w.code, [])),
        }
        for w in wijken
    ]
    general = {"field": getattr(form, routing_field_name(GENERAL_INBOX))}
    return form, rows, general


def _owner_value(value: str | None) -> int | None:
    if not value:
        return None
    return parse_id(value) or 0  # 0: nobody, and the domain says so


@bp.route("/beheer/routering", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_routing():  # type: ignore[no-untyped-def]
    form, rows, general = _routing_page()
    if form.validate_on_submit():
        # Only the selects that were sent: a partial form never removes other rules.
        owners: Mapping[str, int | None] = {
            field.short_name.removeprefix("owner_"): _owner_value(field.data)
            for field in form
            if field.short_name.startswith("owner_") and field.name in request.form
        }
        try:
            changed = set_routing_rules(db.session, owners, current_user.id)
            if not changed:
                return _done(_("Er is niets gewijzigd."), "backoffice.admin_routing")
            return _done(
                _(
                    "De routering is opgeslagen. Nieuwe signalen gaan naar de gekozen eigenaar; "
                    "signalen die er al zijn houden hun eigenaar."
                ),
                "backoffice.admin_routing",
            )
        except RoutingError as error:
            db.session.rollback()
            for scope, code in error.problems:
                field = getattr(form, routing_field_name(scope), None)
                if field is not None:
                    _add_error(field, str(ROUTING_ERRORS.get(code, code)))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "backoffice/admin/routing.html",
            form=form,
            rows=rows,
            general=general,
            errors=form.error_summary(),
            unowned=wijken_without_owner(db.session),
            nav="admin",
        ),
        status,
    )


# --- standard texts ------------------------------------------------------------------------


def _placeholder_list() -> str:
    return ", ".join("{" + p + "}" for p in PLACEHOLDERS)


def _text_error(form: StandardTextForm, error: TextError) -> None:
    code = error.code
    if code == "unknown_placeholder":
        _add_error(
            form.body,
            _(
                "Deze plaatshouder kennen we niet: %(unknown)s. U kunt gebruiken: %(known)s.",
                unknown=", ".join(error.unknown),
                known=_placeholder_list(),
            ),
        )
    elif code == "unpaired_brace":
        _add_error(
            form.body,
            _(
                "Er staat een losse { of } in de tekst. Gebruik accolades alleen rond een "
                "plaatshouder, zoals {meldnummer}."
            ),
        )
    elif code == "unknown_status":
        _add_error(form.status, _("Kies een status uit de lijst."))
    elif code == "unknown_kind":
        _add_error(form.kind, _("Kies een soort uit de lijst."))
    elif code == "title_too_long":
        _add_error(form.title, _("De titel is te lang."))
    elif code == "body_too_long":
        _add_error(form.body, _("De tekst is te lang."))
    else:
        _add_error(form.title, _("Vul een titel en een tekst in."))


def _text_form_page(form: StandardTextForm, text: StandardText | None, status: int) -> Any:
    return (
        render_template(
            "backoffice/admin/text_form.html",
            form=form,
            text=text,
            placeholders=_placeholder_list(),
            errors=form.error_summary(),
            nav="admin",
        ),
        status,
    )


@bp.get("/beheer/standaardteksten")
@roles_required(Role.ADMIN)
def admin_texts():  # type: ignore[no-untyped-def]
    texts = db.session.scalars(
        select(StandardText).order_by(StandardText.active.desc(), StandardText.title)
    ).all()
    return render_template(
        "backoffice/admin/texts.html",
        texts=texts,
        status_labels=STATUS_LABELS,
        kind_names=KIND_NAMES,
        nav="admin",
    )


def _save_text_view(text: StandardText | None) -> Any:
    if request.method == "POST":
        form = StandardTextForm()
    elif text is None:
        form = StandardTextForm(formdata=None, data={"active": True})
    else:
        form = StandardTextForm(
            formdata=None,
            data={
                "title": text.title,
                "body": text.body,
                "status": text.status or "",
                "kind": text.kind or "",
                "active": text.active,
            },
        )
    if form.validate_on_submit():
        try:
            saved = save_text(
                db.session,
                text,
                title=form.title.data or "",
                body=form.body.data or "",
                status=form.status.data or None,
                kind=form.kind.data or None,
                active=bool(form.active.data),
                actor_id=current_user.id,
            )
            return _done(
                _("De standaardtekst ‘%(title)s’ is opgeslagen.", title=saved.title),
                "backoffice.admin_texts",
            )
        except TextError as error:
            db.session.rollback()
            _text_error(form, error)
    status = 422 if request.method == "POST" else 200
    return _text_form_page(form, text, status)


@bp.route("/beheer/standaardteksten/nieuw", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_text_new():  # type: ignore[no-untyped-def]
    return _save_text_view(None)


@bp.route("/beheer/standaardteksten/<int:text_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_text_edit(text_id: int):  # type: ignore[no-untyped-def]
    text = db.session.get(StandardText, text_id)
    if text is None:
        abort(404)
    return _save_text_view(text)


# --- wijken and buurten --------------------------------------------------------------------

PLACE_ERRORS = {
    "name_required": _l("Vul een naam in."),
    "name_too_long": _l("De naam mag hoogstens %(max)d tekens hebben.", max=PLACE_NAME_MAX),
    "name_taken": _l("Deze naam is al in gebruik. Kies een naam die nog niet bestaat."),
}


def _rename_form(kind: str, code: str, name: str, bound: tuple[str, str, Form] | None) -> Form:
    if bound is not None and bound[:2] == (kind, code):
        return bound[2]
    # CSRF is checked for every POST by CSRFProtect; a prefixed form would want its own
    # prefixed token field, so these small forms leave it to that.
    return RenameForm(
        formdata=None, data={"name": name}, prefix=f"{kind}-{code}", meta={"csrf": False}
    )


def _render_wijken(bound: tuple[str, str, Form] | None = None, status: int = 200) -> Any:
    wijken = db.session.scalars(
        select(Wijk).options(selectinload(Wijk.buurten)).order_by(Wijk.code)
    ).all()
    sections = [
        {
            "wijk": wijk,
            "form": _rename_form("wijk", wijk.code, wijk.name, bound),
            "buurten": [(b, _rename_form("buurt", b.code, b.name, bound)) for b in wijk.buurten],
        }
        for wijk in wijken
    ]
    errors = bound[2].error_summary() if bound is not None else []
    return (
        render_template(
            "backoffice/admin/wijken.html", sections=sections, errors=errors, nav="admin"
        ),
        status,
    )


def _rename(kind: str, code: str) -> Any:
    form = RenameForm(prefix=f"{kind}-{code}", meta={"csrf": False})
    if form.validate_on_submit():
        rename = rename_wijk if kind == "wijk" else rename_buurt
        try:
            changed = rename(db.session, code, form.name.data or "", current_user.id)
            message = (
                _("De naam is gewijzigd. Alle signalen en pagina's tonen de nieuwe naam.")
                if changed
                else _("Er is niets gewijzigd.")
            )
            return _done(message, "backoffice.admin_wijken", anchor=f"{kind}-{code}")
        except RoutingError as error:
            db.session.rollback()
            if error.code in ("unknown_wijk", "unknown_buurt"):
                abort(404)
            _add_error(form.name, str(PLACE_ERRORS.get(error.code, error.code)))
    return _render_wijken((kind, code, form), 422)


@bp.get("/beheer/wijken")
@roles_required(Role.ADMIN)
def admin_wijken():  # type: ignore[no-untyped-def]
    return _render_wijken()


@bp.post("/beheer/wijken/<code>")
@roles_required(Role.ADMIN)
def admin_wijk_rename(code: str):  # type: ignore[no-untyped-def]
    if db.session.get(Wijk, code) is None:
        abort(404)
    return _rename("wijk", code)


@bp.post("/beheer/buurten/<code>")
@roles_required(Role.ADMIN)
def admin_buurt_rename(code: str):  # type: ignore[no-untyped-def]
    if db.session.get(Buurt, code) is None:
        abort(404)
    return _rename("buurt", code)
