"""The business rules. Front ends call these modules with plain values and get read models.

This package's ``__init__`` imports nothing, so that the CLI can load the light modules
(errors, vocabulary, references) without paying for the database stack.
"""
