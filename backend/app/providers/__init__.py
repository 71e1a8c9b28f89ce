"""Providers: small protocols with swappable implementations; ``factory`` picks concrete ones."""
