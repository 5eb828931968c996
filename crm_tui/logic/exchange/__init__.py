"""Files in and out: CSV and JSON Lines imports, vCard, exports."""
