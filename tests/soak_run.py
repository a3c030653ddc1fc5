"""The soak run (``tests/ui/test_soak.py`` starts it in its own process): the real window left to
its own timers at the real rate, as the nurse of issue 27 left it.

An infusion runs on the Infusion tab; the idle lock (set to its shortest, 1 minute) engages by
itself; every few minutes the "nurse" comes back: unlocks through the lock screen's field,
switches tabs and types a reading into the vital-signs form, then leaves again. Halfway the
infusion is stopped (with its volume) and the visit stays in observation until the end. A fatal
error aborts this process (the test sees its exit status and the fault log); a clean end prints
``soak ok`` with what happened.

    python tests/soak_run.py --seconds 1800 --folder /tmp/soak
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # walk_helpers


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument(
        "--return-every", type=float, default=150.0, help="seconds between the nurse's visits"
    )
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings, QTimer

    from nurse_app.store import Store, keys
    from nurse_app.ui import run_marker
    from nurse_app.ui.app import get_app

    passphrase = os.environ["NURSE_APP_PASSPHRASE"]
    keys.unlock(passphrase)
    app = get_app()
    run_marker.begin(args.folder / "logs")
    from walk_helpers import make_record, open_infusion

    from nurse_app.services.infusion import record_infusion_event
    from nurse_app.ui.main_window import MainWindow

    path = args.folder / "record.db"
    pid = make_record(path)
    store = Store.open(path)
    window = MainWindow(store=store, settings=QSettings(str(args.folder / "ui.ini"), QSettings.IniFormat))
    window.resize(1366, 768)
    window.show()
    vid = open_infusion(window, pid)
    window.locker.set_idle_minutes(1)
    page = window.visit_page
    seen = {"locks": 0, "returns": 0, "readings": 0, "stopped": False, "ticks": 0}
    window.locker.locked_changed.connect(lambda locked: seen.__setitem__("locks", seen["locks"] + locked))
    tab = page.infusion_tab
    tab.clock.timeout.connect(lambda: seen.__setitem__("ticks", seen["ticks"] + 1))
    started = time.monotonic()

    def nurse_returns() -> None:
        locker = window.locker
        if locker.locked:
            locker.screen.field.setText(passphrase)
            if not locker.screen.attempt():
                print("soak: the lock screen refused the passphrase", file=sys.stderr)
                app.exit(3)
                return
        seen["returns"] += 1
        for index in range(page.tabs.count()):  # look at every tab, back to the infusion
            page.tabs.setCurrentIndex(index)
            app.processEvents()
        page.tabs.setCurrentWidget(tab)
        tab.inputs["temperature_c"].setText("36.9")
        tab.inputs["heart_rate"].setText(str(70 + seen["returns"] % 10))
        tab.add_vitals_button.click()
        seen["readings"] += 1
        if not seen["stopped"] and time.monotonic() - started > args.seconds / 2:
            record_infusion_event(store, vid, "stop", volume_ml=40, reason="stopped for a reaction")
            page.ctx.changed.emit("events")
            seen["stopped"] = True  # observation from here on

    returns = QTimer(window, interval=int(args.return_every * 1000))
    returns.timeout.connect(nurse_returns)
    returns.start()
    QTimer.singleShot(int(args.seconds * 1000), app.quit)
    status = app.exec()
    returns.stop()
    if status:
        return status
    if not window.locker.locked and seen["locks"] == 0:
        print("soak: the idle lock never engaged", file=sys.stderr)
        return 4
    if window.locker.locked:
        window.locker.screen.field.setText(passphrase)
        window.locker.screen.attempt()
    window.close()
    store.close()
    run_marker.end()
    print(
        f"soak ok: {args.seconds:.0f} s, {seen['ticks']} clock ticks on the Infusion tab, "
        f"{seen['locks']} idle locks, {seen['returns']} returns, {seen['readings']} readings, "
        f"stopped halfway: {seen['stopped']}, None references left: {sys.getrefcount(None)}"
    )
    sys.stdout.flush()
    os._exit(0)  # the result is decided; skip the interpreter's teardown of Qt's wrappers


if __name__ == "__main__":
    sys.exit(main())
