"""Admin screens: staff accounts and their security, routing rules, standard texts, names of
wijken and buurten, mail replies that were set aside, a resident's privacy request.

Every view is for admins only (one stored mail's original also for its signal's owner).
Views are thin: parse the form, call one domain operation, commit, flash, redirect (303). A
refused change comes back filled in, with an error summary, as 422."""

from portal.backoffice.admin import (  # noqa: F401
    functionaries,
    home,
    inbound,
    partners,
    places,
    privacy,
    routing,
    security,
    targets,
    texts,
    users,
)
