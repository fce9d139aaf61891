"""Compiler passes over a build: each pass one module with one entry point (see base.py)."""
