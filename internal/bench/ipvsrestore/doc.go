// Command ipvsrestore measures restoring a large IPVS table with lvskit
// against ipvsadm -R on the same rules file, side by side in one run:
//
//	go build -o /var/tmp/ipvsrestore ./internal/bench/ipvsrestore
//	go run ./internal/testenv/vmrun -modules ip_vs,ip_vs_wlc -- /var/tmp/ipvsrestore \
//	    [-services 1000] [-dests 10] [-rounds 5] [-ipvsctl PATH] [-batch 256,32,1]
//
// (or natively, as root, on a kernel with IPVS). Each round restores the
// rules into fresh network namespaces, one at a time (IPVS keeps the
// services of all namespaces in one hash table): with ipvsadm -R (run with
// ip netns exec), and with package ipvs (Client.Restore: parse the lines,
// then Apply, pipelined) once per -batch size (1 is one acknowledged request
// per message), alternating which goes first, and checks that ipvsadm -Sn
// prints the same table after each. With -ipvsctl it also times the examples/ipvsctl
// binary (ipvsctl restore under ip netns exec). Then, on the restored table,
// it times a declarative Reconcile of the same state (0 writes expected) and
// of a one-weight change (1 write expected), and ipvsadm -e making the same
// change for reference.
//
// It prints min/median/max per figure. A benchmark, not a test: it never
// fails on a timing. Everything runs in namespaces it creates and removes.
package main
