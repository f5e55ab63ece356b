"""Admin screens: staff accounts and their security, routing rules, standard texts, names of
wijken and buurten.

Every view is for admins only. Views are thin: parse the form, call one domain operation,
commit, flash, redirect (303). A refused change comes back filled in, with an error summary,
as 422."""

from portal.backoffice.admin import home, places, routing, security, texts, users  # noqa: F401
