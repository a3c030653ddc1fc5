"""IVIG home-infusion nurse companion."""

__version__ = "0.1.0"
