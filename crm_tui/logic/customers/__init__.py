"""Customers and what hangs on them: contacts, the timeline, follow-up tasks, search, batches."""
