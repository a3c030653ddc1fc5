"""The ``nurse-app`` command.

With no sub-command it opens the GUI.  Sub-commands run headless; each lives in
its own module in this package and registers itself through ``register``.
Every error a person can cause ends with a one-line message on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from nurse_app import __version__
from nurse_app.cli.passphrase import RECORD_COMMANDS, RECORD_IF_PRESENT_COMMANDS, unlock
from nurse_app.core.errors import NurseAppError

# Modules in nurse_app.cli that add sub-commands.  Each defines
# ``register(subparsers)`` and sets ``func`` (args -> exit code) on its parsers.
COMMAND_MODULES = (
    "calc",
    "catalogue",
    "guides_cmds",
    "store_cmds",
    "visit_cmds",
    "schedule_cmds",
    "record_cmds",
    "content_cmds",
    "security_cmds",
)

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _global_parser(**kwargs) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nurse-app",
        description="IVIG home-infusion nurse companion. Without a command, opens the app.",
        **kwargs,
    )
    parser.add_argument("--version", action="version", version=f"nurse-app {__version__}")
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="the patient record file (default: $NURSE_APP_DB, else nurse-app.db in the user data folder)",
    )
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="the agency policy file (default: $NURSE_APP_POLICY, else policy.toml in the "
        "user data folder, if present)",
    )
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="validate all content, build the window offscreen, run one calculation",
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="start the app as usual, wait until the first page is painted, print the "
        "time to ready and exit (0 = ready)",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every sub-command (imports each command module)."""
    parser = _global_parser()
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"nurse_app.cli.{name}").register(subparsers)
    return parser


def _parse(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """Parse the command line; opening the window does not import the headless commands.

    The global options alone are tried first: when nothing is left over (no command, no
    --help), that is the answer, and start-up skips importing every command module (and
    what they import: reports, the guide index...).  Anything else goes to the full parser.
    """
    quick = _global_parser(add_help=False)
    args, rest = quick.parse_known_args(argv)
    if not rest:
        args.command = None
        return quick, args
    parser = build_parser()
    return parser, parser.parse_args(argv)


class _TerminalSafe:
    """A text stream that prints control characters as escapes (:func:`terminal_safe`)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        from nurse_app.core.formatting import terminal_safe

        self._stream.write(terminal_safe(text))
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    """Run ``nurse-app ARGS``; what a command prints never carries a control character."""
    from nurse_app.store.process import harden

    harden()
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _TerminalSafe(out), _TerminalSafe(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: list[str] | None = None) -> int:
    parser, args = _parse(argv)
    previous_policy = _set_policy(args.policy) if args.policy is not None else _KEEP
    try:
        if args.selftest:
            from nurse_app.cli.selftest import run_selftest

            return run_selftest()
        if args.smoke_test and args.command is not None:
            parser.error("--smoke-test starts the window; it takes no command")
        if args.command is None:
            from nurse_app.ui.app import run_gui

            if args.smoke_test:
                try:
                    return run_gui(args)
                except NurseAppError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the smoke test reports any failure as one line
                    print(f"nurse-app: smoke test failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                    return 1
            return run_gui(args)
        record = None
        if args.command in RECORD_COMMANDS:
            from nurse_app.store import resolve_db_path
            from nurse_app.store.location import folder_privacy, require_regular

            record, is_default = resolve_db_path(args.db)
            require_regular(record)  # a FIFO would make every later look wait forever
            _check_throttle(record)
            unlock(record)
            note = None if is_default else folder_privacy(record)
            if note:
                print(f"nurse-app: note: {note}.", file=sys.stderr)
        elif args.command in RECORD_IF_PRESENT_COMMANDS:
            from nurse_app.store import resolve_db_path

            record = resolve_db_path(args.db)[0]
            if record.is_file():
                unlock(record)
        try:
            code = int(args.func(args) or 0)
        except NurseAppError as exc:
            if record is not None:
                _count_wrong_passphrase(record, exc)
            raise
        if record is not None:
            _audit_wrong_passphrases(record)
        return code
    except NurseAppError as exc:
        hint = getattr(exc, "cli_hint", "")
        print(f"nurse-app: {exc}{' ' + hint if hint else ''}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        if previous_policy is not _KEEP:
            _set_policy(previous_policy)


def _check_throttle(record) -> None:
    """Too many wrong passphrases for this record lately (window or command): wait first."""
    from nurse_app.core.errors import InputError
    from nurse_app.store.throttle import Throttle

    wait = Throttle(record).seconds_to_wait()
    if wait > 0:
        raise InputError(
            f"The passphrase was wrong too many times for this record; try again in {int(wait + 0.999)} s."
        )


def _count_wrong_passphrase(record, exc: NurseAppError) -> None:
    from pathlib import Path

    from nurse_app.store import crypto
    from nurse_app.store.throttle import Throttle

    where = exc.path if isinstance(exc, crypto.WrongPassphraseError) else None
    if where is not None and Path(where).absolute() == Path(record).absolute():
        Throttle(record).record_failure()


def _audit_wrong_passphrases(record) -> None:
    """The record opened: earlier wrong attempts go into its audit log, the count restarts."""
    from nurse_app.store import Store
    from nurse_app.store.throttle import Throttle, audit_failures

    throttle = Throttle(record)
    if not throttle.failures() or not record.is_file():
        return
    with Store.open(record) as store:
        audit_failures(store, throttle.take_failures())


_KEEP = object()


def _set_policy(path):
    """Use the agency policy file ``path`` (``--policy FILE``) for this run; returns the one it replaced."""
    from nurse_app.core import policy

    previous = policy.explicit_policy_path()
    policy.set_policy_path(path)
    return previous
