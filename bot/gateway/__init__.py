"""The gateway: customers' channels, conversations, the handoff queue and the agents' side."""
