"""A use case's refusal: nothing was written, and the reason is a catalogue id suffix plus its inputs."""

from __future__ import annotations

from typing import Any


class Refused(ValueError):
    """`code` names the refusing rule (rendered as `<family>.refused.<code>`), `inputs` its details."""

    def __init__(self, code: str, **inputs: Any) -> None:
        super().__init__(code)
        self.code = code
        self.inputs = inputs
