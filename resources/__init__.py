"""Packaged clinical content (products, regimens, limits, guides, checklists)."""
