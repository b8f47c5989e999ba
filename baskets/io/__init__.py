"""Data in and out: spreadsheet imports and exports (pandas lives here only), duplicate
households across associations, and the data-protection rights (export, erasure, retention)."""
