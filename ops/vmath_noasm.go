//go:build !amd64 || noasm

package ops

// vmathSelect returns the float32 kernel set of builds without assembly:
// the reference loops of vmath.go.
func vmathSelect() *vmathImpl { return vmathGo }

// vmathImpls lists every float32 kernel set this build can run.
func vmathImpls() []*vmathImpl { return []*vmathImpl{vmathGo} }
