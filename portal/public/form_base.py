"""The base of every public form."""

from __future__ import annotations

from flask_wtf import FlaskForm


def _without_nul(value: object) -> object:
    # PostgreSQL refuses text with NUL characters; no person types one, so drop them.
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


class PortalForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
            # A new list per binding: the class's own field definitions stay untouched.
            filters = [_without_nul, *(unbound_field.kwargs.get("filters") or ())]
            return unbound_field.bind(form=form, filters=filters, **options)
