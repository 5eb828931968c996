"""Benchmarks for crm against the budgets in ARCHITECTURE.md section 4; run ``python -m bench``."""
