"""Spiders: one base class per platform family (see base.py); employers are rows in the board registry."""
