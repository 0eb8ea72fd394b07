"""The Text-to-SQL domain: ``text2sql``, execution-verified training data synthesized from databases."""
