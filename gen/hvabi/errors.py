"""Errors the user can act on: where (file:line), what is wrong, and how to fix it."""

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


class HvabiError(Exception):
    """Bad input or usage. Reported as `file:line: error: what` plus a hint; exit status 2."""

    def __init__(self, what, pos=None, hint=None):
        super().__init__(what)
        self.what = what
        self.pos = pos
        self.hint = hint

    def __str__(self):
        where = f"{self.pos}: " if self.pos else ""
        text = f"{where}error: {self.what}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class SpecErrors(HvabiError):
    """Several independent spec errors, reported together so one run shows them all."""

    def __init__(self, errors):
        super().__init__(f"{len(errors)} error(s) in the spec")
        # Each was caught where it was found; its traceback would keep those frames, and
        # the half-built spec in them, alive in a reference cycle until a full collection.
        self.errors = [e.with_traceback(None) for e in errors]

    def __str__(self):
        return "\n".join(str(e) for e in self.errors)
