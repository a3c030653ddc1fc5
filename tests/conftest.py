"""Shared test set-up: Qt runs offscreen, never on the developer's screen."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc

import pytest


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_main_thread():
    """Widgets of a finished test are freed here, on the GUI thread, never by a worker thread's GC."""
    yield
    gc.collect()
