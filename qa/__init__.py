"""Answering questions from an index: retrieval, reading, citations (never writes an index)."""
