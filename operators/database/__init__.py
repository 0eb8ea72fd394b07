"""What operators see of a SQL database: the ``Database`` protocol (resources.database implements it)."""
