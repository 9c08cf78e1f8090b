//go:build !unix

package load

import "os/exec"

// detach does nothing where process groups do not exist.
func detach(cmd *exec.Cmd) {}
