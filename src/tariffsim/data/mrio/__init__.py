"""Build GE worlds from official multi-regional input-output tables (WIOD 2016, OECD ICIO, pymrio folders)."""
