"""The only place with SQL: one Database, one repository module per noun."""
