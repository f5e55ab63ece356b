"""Business logic of the portal: plain Python, no Flask, testable on its own."""
