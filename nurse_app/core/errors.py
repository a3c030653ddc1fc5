"""Error types shared by every layer.

Every error the nurse can cause (bad input, a hard limit) or the installation can
cause (a broken resource file, an unreadable database) derives from
:class:`NurseAppError`, whose message is written for a person, not a developer.
The CLI and the GUI show ``str(error)`` and never a traceback.
"""


class NurseAppError(Exception):
    """Base class: ``str(error)`` is a complete sentence a nurse can act on.

    ``cli_hint`` (optional) is a sentence for the command line only (it may name a flag such as
    ``--db``); the GUI shows ``str(error)`` alone, which never mentions command-line flags.
    """

    cli_hint: str = ""


class InputError(NurseAppError):
    """A value typed by the user cannot be used (not a number, unknown unit...).

    ``field`` names the input (e.g. ``"weight"``) so a form can mark it inline.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class HardLimitError(InputError):
    """A value is outside a hard limit: the calculation is refused."""


class ResourceError(NurseAppError):
    """A packaged content file is missing or invalid; names the file and field."""
