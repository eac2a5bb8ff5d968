// Package netnstest is package topology (see internal/testenv) for tests:
// every namespace it creates is removed, and every program it starts is
// stopped by PID, when the test ends.
//
// Privileged tests call [RequirePrivileged] first. It skips the test with
// the reason when it cannot run (not root on Linux, a program missing), or
// fails it when LVSKIT_REQUIRE_PRIVILEGED=1, so that a CI run never counts a
// skipped privileged test as a pass.
package netnstest
