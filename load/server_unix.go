//go:build unix

package load

import (
	"os/exec"
	"syscall"
)

// detach puts the server in a process group of its own, so that a Ctrl-C
// in the terminal reaches the load command only, which then stops the
// server after the run has been reported.
func detach(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}
