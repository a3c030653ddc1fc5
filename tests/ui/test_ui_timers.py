"""call_soon: the PySide6-6.6-compatible form of QTimer.singleShot(0, context, callable)."""

import ast

from PySide6.QtCore import QObject
from repo_paths import ROOT

from nurse_app.ui.timers import call_soon

UI = ROOT / "nurse_app" / "ui"


def test_call_soon_runs_once_when_idle(qtbot):
    context = QObject()
    calls = []
    call_soon(context, lambda: calls.append(1))
    assert calls == []  # not synchronously
    qtbot.waitUntil(lambda: calls == [1])
    qtbot.wait(20)
    assert calls == [1]  # single shot
    assert context.children() == []  # the timer cleaned itself up


def test_call_soon_is_dropped_when_the_context_is_deleted(qtbot):
    context = QObject()
    calls = []
    call_soon(context, lambda: calls.append(1))
    del context  # Python owns it: the C++ object (and timer) go now
    qtbot.wait(30)
    assert calls == []


def test_no_ui_code_uses_the_context_callable_singleshot_overload():
    # QTimer.singleShot(msec, context, callable) raises TypeError on PySide6 6.6 (the floor);
    # only (msec, callable) and (msec, receiver, b"slot()") exist there.
    offenders = []
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "singleShot"
                and len(node.args) >= 3
                and not isinstance(node.args[-1], ast.Constant)
            ):
                offenders.append(f"{path.relative_to(UI)}:{node.lineno}")
    assert offenders == [], f"use nurse_app.ui.timers.call_soon instead: {offenders}"


def test_an_error_in_a_worker_thread_is_shown_on_the_gui_thread(qtbot, tmp_path):
    # The error hook's cross-thread path used the context/callable singleShot (TypeError on 6.6).
    import threading

    from nurse_app.ui import error_hook

    hook = error_hook.install(tmp_path / "logs" / "errors.log")
    shown_on = []
    hook.show = lambda: shown_on.append(threading.current_thread())
    try:

        def fail():
            raise RuntimeError("worker failed")

        worker = threading.Thread(target=fail)
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: bool(shown_on), timeout=3000)
        assert shown_on == [threading.main_thread()] and hook.count == 1
        assert "RuntimeError" in (tmp_path / "logs" / "errors.log").read_text(encoding="utf-8")
    finally:
        hook.uninstall()
