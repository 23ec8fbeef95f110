"""The meeting runtime: the one writer of a meeting's state, one event at a time."""
