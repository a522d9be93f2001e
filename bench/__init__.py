"""Benchmarks and the seeded test-data generator for the matching engine (not shipped with the app)."""
