package main

import (
	"os"

	"github.com/lvskit/lvskit/internal/natswitch"
)

func main() {
	os.Exit(natswitch.Run(os.Args[1:], os.Stdout, os.Stderr))
}
