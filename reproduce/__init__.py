"""One module per published table: `python -m reproduce.table1` (and table2, table3)."""
