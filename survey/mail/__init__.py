"""Email: the outbox (what is sent, once), composing messages, and the transports."""
