"""Time: who is due, when a user may be reached, and the sweep that delivers nudges."""
