"""The one background-job helper (nurse_app.ui.tasks): callbacks on the GUI thread, the job kept
until it has reported and released afterwards, failures as one sentence."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThreadPool

from nurse_app.core.errors import InputError
from nurse_app.ui import tasks
from nurse_app.ui.app import get_app


def _wait_released(qtbot) -> None:
    assert QThreadPool.globalInstance().waitForDone(20_000)
    qtbot.waitUntil(lambda: not tasks._RUNNING, timeout=5000)


def test_result_and_progress_come_back_on_the_gui_thread_and_the_job_is_released(qtbot):
    get_app()
    seen: list[tuple[str, object, threading.Thread]] = []
    worker: list[threading.Thread] = []

    def work(progress):
        worker.append(threading.current_thread())
        progress(1, 2)
        progress(2, 2)
        return 42

    job = tasks.run_job(
        work,
        on_done=lambda r: seen.append(("done", r, threading.current_thread())),
        on_progress=lambda d, t: seen.append(("progress", (d, t), threading.current_thread())),
        on_failed=lambda m: seen.append(("failed", m, threading.current_thread())),
    )
    assert job.key in tasks._RUNNING and job.autoDelete() is False
    qtbot.waitUntil(lambda: any(kind == "done" for kind, _, _ in seen), timeout=20_000)
    assert [(kind, value) for kind, value, _ in seen] == [
        ("progress", (1, 2)),
        ("progress", (2, 2)),
        ("done", 42),
    ]
    assert worker and worker[0] is not threading.main_thread()
    assert all(thread is threading.main_thread() for _, _, thread in seen)
    _wait_released(qtbot)


def test_failures_reach_the_nurse_as_one_sentence(qtbot):
    get_app()
    messages: list[str] = []

    def broken(_progress):
        raise ZeroDivisionError("division by zero")

    def refused(_progress):
        raise InputError("The record file is read-only.")

    tasks.run_job(broken, on_failed=messages.append, failure="Could not create the handout")
    tasks.run_job(broken, on_failed=messages.append)
    tasks.run_job(refused, on_failed=messages.append, failure="Could not back up")
    qtbot.waitUntil(lambda: len(messages) == 3, timeout=20_000)
    assert sorted(messages) == sorted(
        [
            "Could not create the handout: division by zero",
            "ZeroDivisionError: division by zero",
            "The record file is read-only.",
        ]
    )
    _wait_released(qtbot)


def test_a_job_nobody_holds_still_reports(qtbot):
    """The caller drops the job at once: the helper keeps it until it has reported."""
    get_app()
    results: list[int] = []
    tasks.run_job(lambda _p: sum(range(10)), on_done=results.append)
    import gc

    gc.collect()
    qtbot.waitUntil(lambda: results == [45], timeout=20_000)
    _wait_released(qtbot)
