//go:build !linux

package notify

// OSOptions are the platform backend's own options; beeep, the backend
// here, takes none.
type OSOptions struct{}
