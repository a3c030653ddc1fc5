"""The PySide6 user interface.

Start-up note: after PySide6 is imported, its ``__feature__`` support checks every module
imported later for the text "PySide6" with ``inspect.getsource`` (PYSIDE-2029), which
tokenises each file through linecache: about 0.3 ms per module, some 30-40 ms for the
modules the window imports.  :func:`_fast_feature_check` keeps the same answer but reads
the file's bytes instead.  It runs when this package is first imported, before any widget
module; if a PySide6 version lacks the function, nothing changes.
"""

import sys


def _fast_feature_check() -> None:
    import PySide6  # noqa: F401 - loads shiboken's support modules (not Qt itself)

    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, "fast_nurse_app", False):
        return

    def _mod_uses_pyside(module) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                pass
        return original(module)

    _mod_uses_pyside.fast_nurse_app = True
    feature._mod_uses_pyside = _mod_uses_pyside


_fast_feature_check()
