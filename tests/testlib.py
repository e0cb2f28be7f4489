"""What every test driver prints and returns: one FAIL line per failure, then the
"N passed, N failed" line ctest and CI read, and exit status 1 on any failure."""


def report(passed, failures, require_some=True):
    for line in failures:
        print(f"FAIL {line}")
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures or (require_some and not passed) else 0
