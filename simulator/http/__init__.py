"""HTTP plumbing shared by every API: request context, body limits, validation, security and problem rendering."""
