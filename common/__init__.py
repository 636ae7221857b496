"""What every layer shares: the user-error base class."""
