package vmtest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// dumpLead is how long before the tests' timeout the guest prints its
// tasks and kernel log: the timeout's panic that follows shows only the
// goroutines, not where in the kernel a system call waits.
const dumpLead = 20 * time.Second

// watchGuest arranges, in the guest, for the kernel's side of a hang to be
// printed to w shortly before the -test.timeout in args ends the tests:
// the kernel stacks of the test process's threads and of every task in
// uninterruptible sleep, and the end of the kernel log.
func watchGuest(args []string, w io.Writer) {
	d := testTimeout(args)
	if d <= 2*dumpLead {
		return
	}
	time.AfterFunc(d-dumpLead, func() {
		fmt.Fprintf(w, "vmtest: the tests time out in %v; the guest's kernel side follows\n", dumpLead)
		dumpTasks(w, os.Getpid())
		dmesg := exec.Command("dmesg")
		out, err := dmesg.CombinedOutput()
		if err != nil {
			fmt.Fprintf(w, "vmtest: dmesg: %v\n", err)
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(lines) > 80 {
			lines = lines[len(lines)-80:]
		}
		fmt.Fprintf(w, "vmtest: the last %d lines of the kernel log:\n%s\n", len(lines), strings.Join(lines, "\n"))
	})
}

// testTimeout returns the -test.timeout in args, or 0.
func testTimeout(args []string) time.Duration {
	for i, a := range args {
		name, val, hasVal := strings.Cut(a, "=")
		if name != "-test.timeout" {
			continue
		}
		if !hasVal && i+1 < len(args) {
			val = args[i+1]
		}
		d, err := time.ParseDuration(val)
		if err != nil {
			return 0
		}
		return d
	}
	return 0
}

// dumpTasks prints the state, wait channel and kernel stack of each thread
// of process self and of every task in uninterruptible sleep ("D").
func dumpTasks(w io.Writer, self int) {
	tasks, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*")
	selfDir := fmt.Sprintf("/proc/%d/", self)
	for _, dir := range tasks {
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// The state follows the command name, which is in parentheses
		// and may itself hold spaces or parentheses.
		s := string(stat)
		end := strings.LastIndexByte(s, ')')
		start := strings.IndexByte(s, '(')
		if start < 0 || end < start || end+2 >= len(s) {
			continue
		}
		state := s[end+2]
		if state != 'D' && !strings.HasPrefix(dir, selfDir) {
			continue
		}
		wchan, _ := os.ReadFile(filepath.Join(dir, "wchan"))
		stack, _ := os.ReadFile(filepath.Join(dir, "stack"))
		fmt.Fprintf(w, "vmtest: task %s (%s) state %c wchan %s\n%s", dir, s[start+1:end], state, wchan, stack)
	}
}
