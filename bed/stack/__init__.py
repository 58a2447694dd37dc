"""The running stack: its owner and teardown, the services, the bring-up, waits and watches."""
