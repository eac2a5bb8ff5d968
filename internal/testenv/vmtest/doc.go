// Package vmtest connects Go tests to the VM tier, package vm (see
// internal/testenv).
//
// A package with tests that need IPVS names them TestVM*, calls [Require]
// at the start of each, and hands its TestMain to [Main]:
//
//	func TestMain(m *testing.M) { vmtest.Main(m, "ip_vs", "ip_vs_rr", "ip_vs_wlc") }
//
// `go test -run '^TestVM' ./pkg` then runs natively when the host kernel has
// IPVS, and otherwise boots one VM for the package, runs the same test binary
// inside it as root with the same arguments and folder, and exits with its
// result. Any other selection of tests runs on the host as usual.
package vmtest
