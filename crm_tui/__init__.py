"""crm: a terminal CRM for small teams."""

__version__ = "0.1.0"
