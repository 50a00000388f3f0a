"""The chaos test: campaigns run to the end through kills, sandbox restarts and lost state."""
