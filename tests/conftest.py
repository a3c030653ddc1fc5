"""Shared test set-up: Qt runs offscreen, never on the developer's screen."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
