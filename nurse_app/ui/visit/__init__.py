"""The visit workflow: one page with a tab per stage of a home IVIG visit.

Every edit goes straight to the store (there is no Save button); a signed visit shows
read-only with an "Add addendum" action.  Tabs share :class:`VisitContext`.
"""

from nurse_app.ui.visit.page import VisitPage

__all__ = ["VisitPage"]
