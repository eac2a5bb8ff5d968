// Command vmrun runs a program as root inside a throwaway VM that boots
// Debian's kernel, with package vm (see internal/testenv), for the VM test
// tier and the demo on hosts whose kernel lacks IPVS:
//
//	go run ./internal/testenv/vmrun [-timeout 10m] [-mem 1024] [-modules ip_vs,ip_vs_wlc] -- PROGRAM [ARG...]
//	go run ./internal/testenv/vmrun -prepare
//
// It exits with the program's exit code, or 125 when the VM itself failed.
package main
