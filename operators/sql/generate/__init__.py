"""Text-to-SQL generate operators."""
