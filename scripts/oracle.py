"""Shared by the oracle checks in scripts/: counting checks and the closing 'N passed, N failed' line."""
import sys


class Checks:
    def __init__(self, max_shown=20):
        self.passed = 0
        self.failed = 0
        self.max_shown = max_shown

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= self.max_shown:
                print(f"FAIL {name}: {detail}")

    def finish(self):
        """Prints the closing line and exits 1 on any failure."""
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
