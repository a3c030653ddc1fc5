"""Hand-off to the agency from the window: *File ▸ Send to agency*, the quiet automatic try, and
the access token the nurse enters.

Sending runs on the thread pool (:func:`nurse_app.ui.tasks.run_job`) with its own connection to
the record, so the nurse keeps working; the result shows in the status bar and the visit states
on the Patients page and the Visit header are read again.  The automatic try runs every
:data:`AUTO_TRY_MS` when the agency policy names a server (``[handoff] base_url``, ``auto_send``
not false) and something is due (the backoff of :mod:`nurse_app.services.handoff`); it says
nothing unless something was sent or refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QLineEdit

from nurse_app.core.errors import NurseAppError
from nurse_app.ui.forms import FormDialog
from nurse_app.ui.widgets import FieldWithError

if TYPE_CHECKING:
    from nurse_app.store import Store

AUTO_TRY_MS = 60_000


class AgencyAccessDialog(FormDialog):
    """The access token for the agency's FHIR server: a bearer token, or OAuth2 client
    credentials; kept in the record (encrypted with it), never shown again in full."""

    def __init__(self, store: Store, parent=None):
        super().__init__("Agency server access", parent)
        self.setObjectName("agency_access_dialog")
        self.store = store
        from nurse_app.core.policy import load_policy
        from nurse_app.services.handoff import stored_credentials

        base = load_policy().handoff.get("base_url") or "not set (agency policy [handoff] base_url)"
        intro = QLabel(
            f"Agency server: {base}\nEnter the access token your agency's IT gave you, or a client id and secret."
        )
        intro.setWordWrap(True)
        self.layout_.insertWidget(0, intro)
        self.token = FieldWithError("agency_token", "bearer token")
        self.client_id = FieldWithError("client_id", "OAuth2 client id")
        self.client_secret = FieldWithError("client_secret", "OAuth2 client secret")
        for field in (self.token, self.client_secret):
            field.edit.setEchoMode(QLineEdit.Password)
        self.add_row("Access &token", "token", self.token)
        self.add_row("Client &id", "client_id", self.client_id)
        self.add_row("Client &secret", "client_secret", self.client_secret)
        self.finish_layout()
        self.setMinimumWidth(460)
        stored = stored_credentials(store)
        self.token.edit.setText(stored.get("token", ""))
        self.client_id.edit.setText(stored.get("client_id", ""))
        self.client_secret.edit.setText(stored.get("client_secret", ""))
        self.mark_unmodified()

    def save(self) -> bool:
        from nurse_app.services.handoff import save_credentials

        self.clear_errors()
        try:
            save_credentials(
                self.store,
                token=self.token.text(),
                client_id=self.client_id.text(),
                client_secret=self.client_secret.text(),
            )
        except NurseAppError as exc:
            self.show_error(exc)
            return False
        return True


class HandoffController(QObject):
    """Sends the outbox off the GUI thread; one send at a time."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.running = False
        self.timer = QTimer(self, interval=AUTO_TRY_MS)
        self.timer.timeout.connect(self.auto_try)
        self.timer.start()

    def _configured(self) -> bool:
        from nurse_app.core.policy import load_policy

        try:
            handoff = load_policy().handoff
        except NurseAppError:
            return False
        return bool(handoff.get("base_url")) and handoff.get("auto_send", True) is not False

    def auto_try(self) -> None:
        """The quiet try: only when a server is set and something is due."""
        store = self.window.store
        if self.running or store is None or not self._configured():
            return
        try:
            if not store.outbox_due():
                return
        except NurseAppError:
            return
        self.send(quiet=True)

    def send(self, quiet: bool = False) -> None:
        """*File ▸ Send to agency*: everything waiting (the quiet try: what is due)."""
        from nurse_app.ui.tasks import run_job

        store = self.window.store
        if store is None or self.running:
            return
        path = str(store.path)

        def work(progress) -> Any:
            from nurse_app.services.handoff import destination, send_outbox
            from nurse_app.store import Store

            with Store.open(path) as own:
                dest = destination(own)
                if dest is None:
                    return None
                return send_outbox(own, dest, due_only=quiet, progress=progress)

        def done(result) -> None:
            self.running = False
            if result is None:
                if not quiet:
                    self.window.statusBar().showMessage(
                        "No agency server is set: ask your agency for its policy file ([handoff] base_url).",
                        10000,
                    )
                return
            if not quiet or result.sent or result.refused:
                self.window.statusBar().showMessage(f"Send to agency: {result.text()}", 15000)
            self.window.handoff_changed()

        def failed(message: str) -> None:
            self.running = False
            if not quiet:
                self.window.statusBar().showMessage(f"Send to agency failed: {message}", 15000)

        self.running = True
        self.job = run_job(work, on_done=done, on_failed=failed, failure="Send to agency failed")
