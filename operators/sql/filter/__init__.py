"""Text-to-SQL filter operators."""
