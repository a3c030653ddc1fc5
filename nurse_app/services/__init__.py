"""Use cases shared by the UI and the CLI (imports core and store, never Qt)."""
