"""Normalizations (work in progress)."""
