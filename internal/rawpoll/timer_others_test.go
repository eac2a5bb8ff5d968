//go:build !linux

package rawpoll

const hasKernelTimer = false
