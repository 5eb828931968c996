"""Inputs that have broken programs like crm before: the property tests draw on them."""

# Values a file from another tool, or a user, gives: the awkward ones included.
LIKELY = [
    "", " ", "Acme GmbH", "acme gmbh.", "Jane Doe", "Zoë Müller", "jane@acme.example", "x@", "@", "a@b",
    "+49 30 1234567", "0170 1234567", "12", "DE", "Germany", "vip, partner", "Lead", "Closed Won",
    "Closed Lost", "Proposal", "customer", "prospect", "person", "company", "bogus",
    "1e309", "-1e309", "9223372036854775807", "-9223372036854775808", "92233720368547758.07", "NaN",
    "inf", "$1,234.50", "1.234,50 €", "0", "-5", "12,5", "0.001",
    "2026-03-04", "03/04/2025", "15/03/2025", "31/02/2025", "tomorrow", "+3d", "friday", "9999-12-31",
    "0001-01-01", "2026-13-45T25:61", "1700000000",
    "open", "pending", "resolved", "closed", "new", "urgent", "high", "low", "email", "phone",
    "complaint", "question", "alice", "bob", "vera", "nobody", "alice@team.example",
    "C-1", "P-1", "D-1", "T-1", "C-99999999999999999999",
    "=cmd|' /C calc'!A0", "\x00", "nul\x00inside", "\x1b]0;title\x07\x1b[31mred", "a\nb", "a\r\nb",
    '"', '""', "'", ",", ";", "\t", "\ufeff", "\u202e", "ı", "ß",
]  # fmt: skip
