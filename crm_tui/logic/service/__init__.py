"""Tickets: SLA policies and their clocks, replies, assignment and the status workflow."""
