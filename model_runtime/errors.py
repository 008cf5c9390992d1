"""User-facing failures of the runtime: a kind and a one-line message, never a traceback."""


class RuntimeUserError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return self.message


class CheckpointError(RuntimeUserError):
    def __init__(self, message: str):
        super().__init__("checkpoint", message)
