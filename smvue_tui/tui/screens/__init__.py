"""One module per screen; each reads the store in workers and renders from messages."""
