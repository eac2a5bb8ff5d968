package main

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
)

// memPids keeps one of the processes that share an address space (here
// another thread of this process, as a child between vfork and exec
// would) and every process with its own (a forked child).
func TestMemPidsCountsSharedMemoryOnce(t *testing.T) {
	self := os.Getpid()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	tid := 0
	for _, e := range tasks {
		if id, _ := strconv.Atoi(e.Name()); id != self && id != 0 {
			tid = id
		}
	}
	if tid == 0 {
		t.Fatal("no second thread in a Go process")
	}
	child := exec.Command("sleep", "30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	got := memPids([]int{self, tid, child.Process.Pid})
	if want := []int{self, child.Process.Pid}; !slices.Equal(got, want) {
		t.Errorf("memPids(self %d, thread %d, child %d) = %v, want %v", self, tid, child.Process.Pid, got, want)
	}
}
