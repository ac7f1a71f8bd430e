"""Services of the after-sales assistant: the platform API stub and the gateway."""
