"""The unlock screen, the first-run passphrase form, idle auto-lock and Lock now.

Why: the record is health information on a laptop carried from home to home.  Before
any patient data is read the nurse types the record's passphrase; after N idle
minutes (Settings, default from ``resources/security.toml``) or on Lock now (Ctrl+L)
the window's content is replaced by the lock screen.  The content widgets stay alive
underneath (a half-typed field is still there after unlocking), and a running
infusion keeps running: the lock screen says when vital signs are due, without any
patient detail.  Wrong passphrases are throttled with a growing delay, never a
permanent lock-out, and recorded in the audit log after the next unlock.

The passphrase is never stored: not in QSettings, logs or messages.
"""

from __future__ import annotations

import contextlib
import hmac
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nurse_app.core import security
from nurse_app.ui.widgets import ATTENTION_COLOUR, error_label

APP_TITLE = "IVIG Nurse Companion"
FORGOTTEN = (
    "A forgotten passphrase cannot be recovered: nobody, not even your agency's IT, can open "
    "the record without it. Visits you exported or handed over are the only copies outside "
    "the record. Write it down and keep it somewhere safe, away from this laptop."
)
VITALS_DUE = "Vital signs due for the running infusion — unlock to record"
VITALS_DUE_VISIT = "Vital signs due for the open visit — unlock to record"  # (infusion ended)
LOCK_QUESTION = (
    "An infusion is running. Lock the window now?\n\nThe infusion carries on while the "
    "window is locked: its clock keeps running, and the lock screen says when vital signs "
    "are due (without any patient detail). Unlock to record them."
)
OBSERVATION_NOTICE = "Observation after the infusion."
IDLE_SETTING = "security/idle_lock_minutes"
# The platform adds the application's name to every window title ("… — IVIG Nurse Companion"),
# so the locked title does not repeat it.
LOCKED_TITLE = "Window locked"


def _password_field(name: str, accessible: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setAccessibleName(accessible)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMinimumWidth(320)
    return field


# --------------------------------------------------------------------------- choose a passphrase


class PassphraseForm(QWidget):
    """Typed twice, checked against the rules, strength shown; emits ``chosen``."""

    chosen = Signal(str)

    def __init__(self, intro: str, button: str, parent=None, name: str = ""):
        super().__init__(parent)
        self.setObjectName("passphrase_form")
        self._name = name
        layout = QVBoxLayout(self)
        heading = QLabel(intro)
        heading.setWordWrap(True)
        layout.addWidget(heading)
        warning = QLabel(FORGOTTEN)
        warning.setObjectName("forgotten_warning")
        warning.setWordWrap(True)
        layout.addWidget(warning)
        form = QFormLayout()
        self.first = _password_field("new_passphrase", "New passphrase")
        self.second = _password_field("repeat_passphrase", "New passphrase again")
        form.addRow("&Passphrase", self.first)
        form.addRow("&Again", self.second)
        self.strength = QLabel()
        self.strength.setObjectName("passphrase_strength")
        form.addRow("Strength", self.strength)
        layout.addLayout(form)
        self.problem = error_label("passphrase_problem")
        layout.addWidget(self.problem)
        self.button = QPushButton(button)
        self.button.setObjectName("choose_passphrase")
        self.button.setDefault(True)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignRight)
        self.first.textChanged.connect(self._show_strength)
        self.button.clicked.connect(self.submit)
        self.second.returnPressed.connect(self.submit)
        self.first.returnPressed.connect(self.second.setFocus)
        min_length = security.policy().min_length
        self.first.setPlaceholderText(f"at least {min_length} characters; a few unrelated words")
        self._show_strength("")

    def _show_strength(self, text: str) -> None:
        score, word = security.strength(text)
        self.strength.setText(
            f"{word} ({score} of 4)" if text else f"at least {security.policy().min_length} characters"
        )

    def submit(self) -> None:
        first, second = self.first.text(), self.second.text()
        problem = security.passphrase_problem(first, name=self._name)
        if problem is None and first != second:
            problem = "The two passphrases differ; type the same one twice."
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        if problem is None:
            self.first.clear()
            self.second.clear()
            self.chosen.emit(first)


# --------------------------------------------------------------------------- unlock


class UnlockScreen(QWidget):
    """Passphrase field with throttling after wrong attempts, and the infusion notice.

    ``check(passphrase) -> bool`` decides; ``unlocked`` is emitted on success.
    ``failures`` (wrong attempts since the last unlock, with their times) is kept for
    the audit log.
    """

    unlocked = Signal()

    def __init__(
        self,
        check: Callable[[str], bool],
        parent=None,
        *,
        clock=time.monotonic,
        notice: Callable[[], str | None] | None = None,
        throttle=None,
    ):
        super().__init__(parent)
        self.setObjectName("lock_screen")
        self._check = check
        self._clock = clock
        self._notice = notice
        # The record's own count (store.throttle.Throttle), shared with the command line and
        # kept over a restart; without one (a test of the widget) it is kept here only.
        self._throttle = throttle
        self.failures: list[float] = throttle.failures() if throttle else []  # wall-clock times
        self._wait_until = self._clock() + throttle.seconds_to_wait() if throttle else 0.0
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel(f"<h2>{APP_TITLE} is locked</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        self.infusion = QLabel()
        self.infusion.setObjectName("lock_infusion_notice")
        self.infusion.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.infusion.setWordWrap(True)
        self.infusion.hide()
        layout.addWidget(self.infusion)
        self.due = QLabel(VITALS_DUE)
        self.due.setObjectName("lock_vitals_due")
        self.due.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.due.setStyleSheet(
            f"background: {ATTENTION_COLOUR}; color: white; padding: 6px; border-radius: 4px;"
        )
        self.due.hide()
        layout.addWidget(self.due)
        row = QFormLayout()
        self.field = _password_field("unlock_passphrase", "Record passphrase")
        self.field.setMaximumWidth(420)  # a passphrase field, not a line across the whole screen
        row.addRow("&Passphrase", self.field)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addLayout(row)
        centred.addStretch(1)
        layout.addLayout(centred)
        self.message = error_label("unlock_message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.message)
        self.button = QPushButton("&Unlock")
        self.button.setObjectName("unlock_button")
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(2)
        self.button.clicked.connect(self.attempt)
        self.field.returnPressed.connect(self.attempt)
        self.ticker = QTimer(self, interval=1000)
        self.ticker.timeout.connect(self.update_state)
        self.ticker.start()
        self.update_state()

    def seconds_to_wait(self) -> float:
        return max(0.0, self._wait_until - self._clock())

    def attempt(self) -> bool:
        if self.seconds_to_wait() > 0:
            self.update_state()
            return False
        typed = self.field.text()
        self.field.clear()
        if typed and self._check(typed):
            self.message.hide()
            self.unlocked.emit()
            return True
        if self._throttle is not None:
            delay = self._throttle.record_failure()
            self.failures = self._throttle.failures()
        else:
            self.failures.append(time.time())
            delay = security.throttle_delay(len(self.failures))
        self._wait_until = self._clock() + delay
        self.message.setText("Wrong passphrase." if typed else "Type the passphrase.")
        self.message.show()
        self.update_state()
        return False

    def take_failures(self) -> list[float]:
        found, self.failures = self.failures, []
        if self._throttle is not None:
            found = self._throttle.take_failures()
        self._wait_until = 0.0
        return found

    def update_state(self) -> None:
        wait = self.seconds_to_wait()
        self.field.setEnabled(wait <= 0)
        self.button.setEnabled(wait <= 0)
        if wait > 0:
            self.message.setText(
                f"Wrong passphrase {len(self.failures)} times. Try again in {int(wait + 0.999)} s."
            )
            self.message.show()
        if self._notice is not None:
            running, due = self._notice() or (None, False)
            self.infusion.setText(running or "")
            self.infusion.setVisible(bool(running))
            in_progress = bool(running) and not running.startswith(OBSERVATION_NOTICE)
            self.due.setText(VITALS_DUE if in_progress else VITALS_DUE_VISIT)
            self.due.setVisible(bool(due))


def passphrase_matches(typed: str, current: str, salt: bytes) -> bool:
    """Compare by derived key (constant time), so every try costs a full key derivation; the
    typed guess's key is not kept in memory (wrong guesses are often near the real one)."""
    from nurse_app.store import keys

    return hmac.compare_digest(keys.derive_once(keys.normalised(typed), salt), keys.derive(current, salt))


# --------------------------------------------------------------------------- idle


class IdleWatcher(QObject):
    """Calls ``on_idle`` after ``interval_ms`` without keyboard or mouse input in the app."""

    INPUT: ClassVar[frozenset[QEvent.Type]] = frozenset(
        {
            QEvent.Type.KeyPress,
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseMove,
            QEvent.Type.Wheel,
            QEvent.Type.TouchBegin,
        }
    )

    def __init__(self, on_idle: Callable[[], None], interval_ms: int, parent=None):
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(on_idle)
        self.set_interval_ms(interval_ms)
        QApplication.instance().installEventFilter(self)

    def set_interval_ms(self, interval_ms: int) -> None:
        self.timer.setInterval(int(interval_ms))
        self.timer.start()

    def restart(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() in self.INPUT and self.timer.isActive():
            self.timer.start()
        return False


def idle_minutes(settings) -> int:
    value = settings.value(IDLE_SETTING)
    try:
        return security.clamp_idle_minutes(None if value is None else int(value))
    except (TypeError, ValueError):
        return security.clamp_idle_minutes(None)


# --------------------------------------------------------------------------- at start


class StartDialog(QDialog):
    """Before the main window: unlock the record, or choose its passphrase.

    ``mode``: "unlock" (an encrypted record), "new" (no record yet) or "encrypt" (a
    plain record of an older version, encrypted on opening).  ``passphrase`` holds
    the result in memory after ``exec()`` succeeds.
    """

    def __init__(self, record: Path, parent=None):
        super().__init__(parent)
        from nurse_app.store import crypto

        self.setWindowTitle(APP_TITLE)
        self.record = Path(record)
        self.passphrase: str | None = None
        layout = QVBoxLayout(self)
        if not self.record.exists() or self.record.stat().st_size == 0:
            self.mode = "new"
            self.form = PassphraseForm(
                "Choose a passphrase for your patient record. It encrypts the record on this laptop.",
                "Create the &record",
            )
        elif crypto.is_plain(self.record):
            self.mode = "encrypt"
            self.form = PassphraseForm(
                "Your patient record is not encrypted yet. Choose a passphrase: "
                "the record and its backups are encrypted with it now, and the "
                "unencrypted copies are removed.",
                "&Encrypt the record",
            )
        else:
            self.mode = "unlock"
            from nurse_app.store.throttle import Throttle

            self.form = UnlockScreen(self._check, throttle=Throttle(self.record))
            self.form.unlocked.connect(self.accept)
        if self.mode != "unlock":
            self.form.chosen.connect(self._chosen)
        layout.addWidget(self.form)

    def _check(self, typed: str) -> bool:
        from nurse_app.store import crypto, keys
        from nurse_app.store.database import read_only_connection

        keys.unlock(typed)
        try:
            read_only_connection(self.record).close()
        except crypto.WrongPassphraseError:
            keys.lock()
            return False
        self.passphrase = typed
        return True

    def _chosen(self, passphrase: str) -> None:
        self.passphrase = passphrase
        self.accept()


# --------------------------------------------------------------------------- in the main window


class LockController(QObject):
    """Lock now, idle auto-lock and the lock screen for ``window`` (a MainWindow with a store).

    The window's central widget is put in a stack with the lock screen; locking shows
    the lock screen, hides the menu bar, status bar and any other open window of the
    app, and sets a title without patient data.  Unlocking brings it all back as it
    was, and records wrong attempts in the audit log under the unlocked nurse's name.
    """

    locked_changed = Signal(bool)

    def __init__(self, window, *, start_failures: list[float] | None = None):
        super().__init__(window)
        from PySide6.QtWidgets import QStackedWidget

        self.window = window
        self.store = window.store
        self.locked = False
        self._hidden: list[QWidget] = []
        self._asking = None  # the "an infusion is running" question, while it is open
        content = window.takeCentralWidget()
        self.screens = QStackedWidget()
        self.screens.setObjectName("lock_stack")
        self.screens.addWidget(content)
        self.content = content
        from nurse_app.store.throttle import Throttle

        self.screen = UnlockScreen(
            self._check, notice=self.infusion_notice, throttle=Throttle(self.store.path)
        )
        self.screen.unlocked.connect(self.unlock)
        self.screens.addWidget(self.screen)
        window.setCentralWidget(self.screens)
        self.idle = IdleWatcher(self.lock_now, idle_minutes(window.settings) * 60_000, self)
        self._record_failures(start_failures or [])
        # The passphrase changed elsewhere (nurse-app change-passphrase): lock, ask for the new one.
        self.rekeyed = False
        self.store.on_rekeyed.append(self._rekeyed_elsewhere)

    def _rekeyed_elsewhere(self) -> None:
        self.rekeyed = True
        self.screen.message.setText(
            "The record's passphrase was changed (nurse-app change-passphrase). Type the new "
            "passphrase; nothing was lost."
        )
        self.screen.message.show()
        QTimer.singleShot(0, self.lock_now)  # after the failed save has shown its message

    # ---------------------------------------------------------------- state
    def request_lock(self) -> bool:
        """Lock now (Ctrl+L, File menu).  During a running infusion the nurse is asked first
        (as when quitting), with Lock as the default answer; returns whether it locked.

        Idle auto-lock never asks (nobody is there to answer): it calls :meth:`lock_now`,
        which also closes this question if it is still open.
        """
        if self.locked:
            return True
        if self.infusion_in_progress():
            from PySide6.QtWidgets import QMessageBox

            box = QMessageBox(
                QMessageBox.Icon.Question,
                "An infusion is running",
                LOCK_QUESTION,
                QMessageBox.StandardButton.NoButton,
                self.window,
            )
            box.setObjectName("lock_question")
            lock = box.addButton("&Lock", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.setDefaultButton(lock)
            self._asking = box
            try:
                box.exec()
            finally:
                self._asking = None
            if box.clickedButton() is not lock:
                return self.locked  # cancelled (or the idle lock came first)
        self.lock_now()
        return True

    def infusion_in_progress(self) -> bool:
        """What the quit question asks about (the main window's ``infusion_running``: started,
        not finished, not stopped for a reaction), so quitting and locking agree."""
        running = getattr(self.window, "infusion_running", None)
        if running is not None:
            return bool(running())
        return self.infusion_notice() is not None

    def lock_now(self) -> None:
        if self.locked:
            return
        if self._asking is not None:
            self._asking.reject()  # the idle lock came while the question was open
        self.locked = True
        self.idle.timer.stop()
        app = QApplication.instance()
        self._hidden = [
            w for w in app.topLevelWidgets() if w is not self.window and w.isVisible() and not w.isHidden()
        ]
        for other in self._hidden:
            other.hide()
        self._title = self.window.windowTitle()
        self.window.setWindowTitle(LOCKED_TITLE)
        self._refresh_window_title()
        self.window.menuBar().hide()
        self.window.menuBar().setEnabled(False)  # no shortcut (print, export...) while locked
        self.window.statusBar().clearMessage()
        self.window.statusBar().hide()
        self.screens.setCurrentWidget(self.screen)
        self.screen.update_state()
        self.screen.field.setFocus()
        self.locked_changed.emit(True)

    def unlock(self) -> None:
        if not self.locked:
            return
        self.locked = False
        self.screens.setCurrentWidget(self.content)
        self.window.setWindowTitle(self._title)
        self._refresh_window_title()
        self.window.menuBar().setEnabled(True)
        self.window.menuBar().show()
        self.window.statusBar().show()
        for other in self._hidden:
            other.show()
        self._hidden = []
        self._record_failures(self.screen.take_failures())
        self.idle.restart()
        self.locked_changed.emit(False)

    def _refresh_window_title(self) -> None:
        """The window's own title rule ("!" while vital signs are due), locked or not."""
        update = getattr(self.window, "update_due", None)
        if update is not None:
            update()

    def _check(self, typed: str) -> bool:
        from nurse_app.store import crypto, keys

        if self.rekeyed:
            return self._take_new_passphrase(typed)
        try:
            current = keys.current()
        except keys.Locked:
            return False
        salt = crypto.file_salt(self.store.path) or b""
        return passphrase_matches(typed, current, salt)

    def _take_new_passphrase(self, typed: str) -> bool:
        """The record now opens with ``typed``: use it from now on and reconnect."""
        from nurse_app.core.errors import NurseAppError
        from nurse_app.store import crypto, keys

        try:
            crypto.connect(self.store.path, passphrases=[keys.normalised(typed)]).close()
        except NurseAppError:
            return False
        keys.lock()
        keys.unlock(typed)
        self.store.reconnect()
        self.rekeyed = False
        return True

    def _record_failures(self, failures: list[float]) -> None:
        if not failures:
            return
        import datetime as _dt

        from nurse_app.core.errors import NurseAppError
        from nurse_app.store.times import utc_text

        stamp = lambda t: utc_text(_dt.datetime.fromtimestamp(t, _dt.UTC))  # noqa: E731
        with contextlib.suppress(NurseAppError):  # the record is busy: the lock itself is what matters
            self.store.record_security_event(
                "wrong passphrase attempts",
                {"count": len(failures), "first_at": stamp(failures[0]), "last_at": stamp(failures[-1])},
            )

    def set_idle_minutes(self, minutes: int) -> int:
        minutes = security.clamp_idle_minutes(minutes)
        self.window.settings.setValue(IDLE_SETTING, minutes)
        self.idle.set_interval_ms(minutes * 60_000)
        return minutes

    # ---------------------------------------------------------------- infusion
    def infusion_notice(self) -> tuple[str | None, bool] | None:
        """("An infusion is running…" or None, vital signs due?) without any patient detail;
        None when there is nothing to say.  "Due" is what the window's vital-signs strip says
        (the infusion tab's ``due_message``), also after the infusion has ended."""
        is_built = getattr(self.window, "is_built", None)
        if is_built is not None and not is_built("visit"):
            return None  # the Visit page was never opened: no infusion (and don't build it)
        page = getattr(self.window, "visit_page", None)
        if page is None or getattr(page, "ctx", None) is None or page.ctx.signed:
            return None
        from nurse_app.core.formatting import fmt_minutes

        tab = page.infusion_tab
        progress = tab.progress()
        from nurse_app.core.visit_logic import STOP

        text = None
        halted = progress.ended or progress.halted_by == STOP
        if progress.started and halted:
            text = self._observation_notice(page, progress.ended)
        elif progress.started:
            state = "running" if progress.running else "paused"
            text = f"An infusion is {state}: {fmt_minutes(progress.elapsed_min)} since the start."
        due = bool(tab.due_message(progress)[0])
        if text is None and not due:
            return None
        return text, due

    @staticmethod
    def _observation_notice(page, ended: bool) -> str | None:
        """After Stop or Finish: when the observation ends (the time-gated checklist items'
        time, core.checklists), not the minutes since the start."""
        ends = [
            item["unlocks_at"]
            for item in page.ctx.store.visit_checklist(page.ctx.visit_id)
            if item.get("locked") and item.get("unlocks_at")
        ]
        if not ends:
            return None
        what = "finished" if ended else "been stopped"
        return (
            f"{OBSERVATION_NOTICE} The infusion has {what}: observation until {min(ends).astimezone():%H:%M}."
        )

    def shutdown(self) -> None:
        self.idle.stop()
        self.screen.ticker.stop()


class SecurityDialog(QDialog):
    """File > Security: idle lock minutes, and Change passphrase."""

    def __init__(self, controller: LockController, parent=None):
        super().__init__(parent)
        from PySide6.QtWidgets import QSpinBox

        self.controller = controller
        self.setWindowTitle("Security")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        rules = security.policy()
        self.minutes = QSpinBox()
        self.minutes.setObjectName("idle_minutes")
        self.minutes.setRange(rules.idle_min_minutes, rules.idle_max_minutes)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(idle_minutes(controller.window.settings))
        self.minutes.setToolTip(f"Default {rules.idle_default_minutes} min ({security.POLICY_NOTE}).")
        form.addRow("&Lock after idle", self.minutes)
        self.current = _password_field("current_passphrase", "Current passphrase")
        form.addRow("&Current passphrase", self.current)
        layout.addLayout(form)
        self.change = PassphraseForm(
            "Change the record's passphrase. Every backup in the backups "
            "folder is re-encrypted with the new one.",
            "C&hange passphrase",
        )
        self.change.chosen.connect(self._change)
        layout.addWidget(self.change)
        self.result = QLabel()
        self.result.setObjectName("security_result")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        self.minutes.valueChanged.connect(controller.set_idle_minutes)
        # Every change above is applied as it is made: Close is the only button needed.
        from PySide6.QtWidgets import QDialogButtonBox

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self.accept)
        layout.addWidget(self.buttons)

    def _change(self, new: str) -> None:
        from nurse_app.core.errors import NurseAppError

        old = self.current.text()
        self.current.clear()
        if not self.controller._check(old):
            self.result.setText("The current passphrase is wrong; nothing was changed.")
            return
        try:
            left = self.controller.store.change_passphrase(old, new)
        except NurseAppError as exc:
            self.result.setText(str(exc))
            return
        text = "Passphrase changed; the record and its backups use the new one."
        if left:
            text += (
                " These backups still need the passphrase they were made with: "
                + ", ".join(p.name for p, _ in left)
                + "."
            )
        self.result.setText(text)
