"""HTTP: the KPI webhook API, leaderboard JSON, health (DESIGN.md §7)."""
