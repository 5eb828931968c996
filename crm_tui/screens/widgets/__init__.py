"""Widgets the screens share: the row table that pages through any list, and dialogs."""
