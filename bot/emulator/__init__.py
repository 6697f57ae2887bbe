"""A local Slack for tests and the demo: the Web API emulator (server) and signed requests into the app
(driver)."""
