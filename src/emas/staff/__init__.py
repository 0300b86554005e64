"""Staff who act on reports: Kominfo triage, agency officers and heads; their permissions."""
