//go:build !windows

package service

// RegisterURLProtocol does nothing off Windows: there notifications carry
// their actions themselves.
func RegisterURLProtocol() error { return nil }
