"""Read-only figures across modules: sales, service, the audit trail, the desk's panels."""
