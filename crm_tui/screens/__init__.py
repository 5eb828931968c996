"""Textual screens: the presentation layer. They call logic, never storage."""
