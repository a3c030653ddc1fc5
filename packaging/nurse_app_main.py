"""Entry point of the frozen build (PyInstaller runs this script as ``nurse-app``)."""

from nurse_app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
