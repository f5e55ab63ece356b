"""The back-office inbox: which signals a staff member sees, filtered, searched, sorted and paged.

Plain Python (no Flask): the view parses the query string into an :class:`InboxFilter`, calls
:func:`search_signals` and renders what comes back. Everything a filter can do lives in the URL,
so a filtered inbox can be bookmarked and the back button works.

Definitions used here:

* **Mine** - signals owned by the user, or lying in one of the user's wijken.
* **Open** - every status except ``resolved`` and ``declined`` (DESIGN.md).
* **Has an open question** - status ``awaiting_resident``.
* **Reopen request** - the resident said they are not satisfied and the owner has not yet
  decided (reopen, or keep it closed with an explanation).
* **Reactie te laat, afhandeling te laat, opvolgen vandaag, ver over tijd** - the deadline
  filters, each an indexed comparison of a stored date with today (``inbox/deadlines.py``,
  rules in ``portal/domain/deadlines.py``); **overdue** (older links) is any of them late.
  The caller passes the moment and the targets in (:class:`Deadlines`), so the domain never
  reads the clock.
* **Ingediend door** - a resident or an organisation (``Signal.submitter_kind``); **binnengekomen
  via** - the channel (the web form, or staff who registered it: phone, email, counter, social
  media, schouw). The search also finds an organisation by its name or KvK number.

Performance (measured in ``bench/``, the same at 1,000 and 1,000,000 signals): one statement
gives every count - per status and per deadline filter - mostly from ``inbox_counts``, a small
table the database keeps with triggers (``counts``); one gives the page of rows with owner,
wijk, buurt and the organisation's name joined in, read from the nearer end of the order
(``page``); one more loads the themes of those rows, one more which of them wait for a reopen
decision or an escalation. 'Mine' first reads the user's wijk codes, sorting by wijk first
reads the wijken's order, a search first asks its index for the ids it finds: at most eight
statements, whatever the page size.

Modules: ``filter`` (the query string), ``deadlines`` (lateness as SQL and per row),
``search`` (the conditions and the page), ``counts`` (every count in one statement), ``page``
(one page of rows), ``text_search`` (the words typed in "Zoeken"), ``options`` (what the
filter form offers), ``points`` (the same list for the map).
"""

from portal.domain.inbox.deadlines import Deadlines, subtract_working_days
from portal.domain.inbox.filter import DEADLINE_FILTERS, NONE, SCOPES, SORTS, InboxFilter
from portal.domain.inbox.options import FilterOptions, default_scope, filter_options
from portal.domain.inbox.search import InboxPage, InboxRow, search_signals

__all__ = [
    "DEADLINE_FILTERS",
    "NONE",
    "SCOPES",
    "SORTS",
    "Deadlines",
    "FilterOptions",
    "InboxFilter",
    "InboxPage",
    "InboxRow",
    "default_scope",
    "filter_options",
    "search_signals",
    "subtract_working_days",
]
