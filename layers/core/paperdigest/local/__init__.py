"""The local stack: the template's resources on moto, and the runner that drives the handlers."""
