"""Who may do what. Roles are fixed; permissions are named for what they protect."""

from __future__ import annotations

from crm_tui.logic.core.vocabulary import Role

_EVERYONE = frozenset(Role)
_WORKERS = frozenset({Role.admin, Role.manager, Role.sales, Role.service})
_SELLERS = frozenset({Role.admin, Role.manager, Role.sales})
_LEADS = frozenset({Role.admin, Role.manager})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": _EVERYONE,
    "customers.write": _WORKERS,
    "tasks.write": _WORKERS,
    "deals.write": _SELLERS,
    "orders.write": _SELLERS,
    "products.manage": _LEADS,
    "tickets.write": _WORKERS,
    "tickets.reopen_closed": _LEADS,
    "sla.manage": _LEADS,
    "pipelines.manage": _LEADS,
    "users.manage": frozenset({Role.admin}),
    "audit.read": _LEADS,
    "database.manage": frozenset({Role.admin}),
}


def allowed(role: Role | str, permission: str) -> bool:
    """True when ``role`` holds ``permission``; unknown permissions are held by no one."""
    return Role(role) in PERMISSIONS.get(permission, frozenset())


def roles_with(permission: str) -> list[str]:
    """The roles holding ``permission``, for error messages."""
    return sorted(str(role) for role in PERMISSIONS.get(permission, ()))
