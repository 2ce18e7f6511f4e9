"""The login log: one append-only row per login, logout, failed login and lockout (passwords never stored)."""
