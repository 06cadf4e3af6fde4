"""Scheduled work: standings, recaps, digests and announcements, claimed once and sent through the outbox."""
