"""Sosialisasi: groups, subscriptions, campaigns, the delivery dispatcher and reach."""
