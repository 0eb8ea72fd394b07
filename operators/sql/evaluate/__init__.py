"""Text-to-SQL evaluate operators."""
