"""Tidy tables and figures from cross-evaluation results."""
