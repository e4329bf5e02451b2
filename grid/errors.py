class ConflictError(Exception):
    """The request is well formed but clashes with the current state (HTTP 409)."""

    def __init__(self, message, code: str = "conflict"):
        super().__init__(message)
        self.message = message
        self.code = code
