package testutil

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the child when the test binary dies,
// so a test binary killed by go test's timeout leaves no broker behind.
// Linux ties the signal to the thread that started the child; the Go runtime
// only ends threads whose goroutine exits while locked to them, which these
// helpers never do.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
