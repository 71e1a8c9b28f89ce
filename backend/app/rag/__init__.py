"""Retrieval-augmented answering: prompts, citation repair, the extractive answerer."""
