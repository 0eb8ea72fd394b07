"""Text-to-SQL refine operators."""
