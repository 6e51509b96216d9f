// Package lockdown is trustwatch's lockdownd client: the request/response
// protocol on device port 62078, typed errors named after lockdownd's own
// Error strings, the session TLS, pairing, pair records and the
// notification proxy.
//
// Every request sets read and write deadlines from its context, so a silent
// or half-dead device never blocks a caller for longer than it asked.
package lockdown

import (
	"errors"
	"fmt"
)

// Error is a lockdownd "Error" reply. Compare with errors.Is against the
// sentinels below; codes this package does not know still arrive as *Error.
type Error struct {
	Code    string // the wire string, e.g. "PasswordProtected"
	Request string // the request that got it, when known
}

func (e *Error) Error() string {
	msg := e.Code
	if d := errorText[e.Code]; d.text != "" {
		msg = fmt.Sprintf("%s (%s, %d)", e.Code, d.text, d.code)
	}
	if e.Request != "" {
		return "lockdown: " + e.Request + ": " + msg
	}
	return "lockdown: " + msg
}

// Is matches any *Error with the same Code, so sentinels work through
// wrapping and regardless of Request.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// LimdCode is libimobiledevice's number for the code (e.g. -19 for
// PairingDialogResponsePending), the one users paste from tool output;
// -256 (UNKNOWN_ERROR) for codes it does not know.
func (e *Error) LimdCode() int {
	if d, ok := errorText[e.Code]; ok {
		return d.code
	}
	return -256
}

// Known reports whether the code is one lockdownd is documented to send.
func (e *Error) Known() bool { _, ok := errorText[e.Code]; return ok }

// Sentinels, one per lockdownd Error string (libimobiledevice
// src/lockdown.c, pymobiledevice3's exception map).
var (
	ErrInvalidResponse                     = &Error{Code: "InvalidResponse"}
	ErrMissingKey                          = &Error{Code: "MissingKey"}
	ErrMissingValue                        = &Error{Code: "MissingValue"}
	ErrGetProhibited                       = &Error{Code: "GetProhibited"}
	ErrSetProhibited                       = &Error{Code: "SetProhibited"}
	ErrRemoveProhibited                    = &Error{Code: "RemoveProhibited"}
	ErrImmutableValue                      = &Error{Code: "ImmutableValue"}
	ErrPasswordProtected                   = &Error{Code: "PasswordProtected"}
	ErrUserDeniedPairing                   = &Error{Code: "UserDeniedPairing"}
	ErrPairingDialogResponsePending        = &Error{Code: "PairingDialogResponsePending"}
	ErrMissingHostID                       = &Error{Code: "MissingHostID"}
	ErrInvalidHostID                       = &Error{Code: "InvalidHostID"}
	ErrSessionActive                       = &Error{Code: "SessionActive"}
	ErrSessionInactive                     = &Error{Code: "SessionInactive"}
	ErrMissingSessionID                    = &Error{Code: "MissingSessionID"}
	ErrInvalidSessionID                    = &Error{Code: "InvalidSessionID"}
	ErrMissingService                      = &Error{Code: "MissingService"}
	ErrInvalidService                      = &Error{Code: "InvalidService"}
	ErrServiceLimit                        = &Error{Code: "ServiceLimit"}
	ErrMissingPairRecord                   = &Error{Code: "MissingPairRecord"}
	ErrSavePairRecordFailed                = &Error{Code: "SavePairRecordFailed"}
	ErrInvalidPairRecord                   = &Error{Code: "InvalidPairRecord"}
	ErrInvalidActivationRecord             = &Error{Code: "InvalidActivationRecord"}
	ErrMissingActivationRecord             = &Error{Code: "MissingActivationRecord"}
	ErrServiceProhibited                   = &Error{Code: "ServiceProhibited"}
	ErrEscrowLocked                        = &Error{Code: "EscrowLocked"}
	ErrPairingProhibitedOverThisConnection = &Error{Code: "PairingProhibitedOverThisConnection"}
	ErrFMiPProtected                       = &Error{Code: "FMiPProtected"}
	ErrMCProtected                         = &Error{Code: "MCProtected"}
	ErrMCChallengeRequired                 = &Error{Code: "MCChallengeRequired"}
	ErrInvalidConnection                   = &Error{Code: "InvalidConnection"}
)

// errorText: libimobiledevice's code and text for each wire string.
var errorText = map[string]struct {
	code int
	text string
}{
	"InvalidResponse":                     {-10, "Invalid response"},
	"MissingKey":                          {-11, "Missing key"},
	"MissingValue":                        {-12, "Missing value"},
	"GetProhibited":                       {-13, "Get prohibited"},
	"SetProhibited":                       {-14, "Set prohibited"},
	"RemoveProhibited":                    {-15, "Remove prohibited"},
	"ImmutableValue":                      {-16, "Immutable value"},
	"PasswordProtected":                   {-17, "Password protected"},
	"UserDeniedPairing":                   {-18, "User denied pairing"},
	"PairingDialogResponsePending":        {-19, "Pairing dialog response pending"},
	"MissingHostID":                       {-20, "Missing HostID"},
	"InvalidHostID":                       {-21, "Invalid HostID"},
	"SessionActive":                       {-22, "Session active"},
	"SessionInactive":                     {-23, "Session inactive"},
	"MissingSessionID":                    {-24, "Missing session ID"},
	"InvalidSessionID":                    {-25, "Invalid session ID"},
	"MissingService":                      {-26, "Missing service"},
	"InvalidService":                      {-27, "Invalid service"},
	"ServiceLimit":                        {-28, "Service limit reached"},
	"MissingPairRecord":                   {-29, "Missing pair record"},
	"SavePairRecordFailed":                {-30, "Saving pair record failed"},
	"InvalidPairRecord":                   {-31, "Invalid pair record"},
	"InvalidActivationRecord":             {-32, "Invalid activation record"},
	"MissingActivationRecord":             {-33, "Missing activation record"},
	"ServiceProhibited":                   {-34, "Service prohibited"},
	"EscrowLocked":                        {-35, "Escrow locked"},
	"PairingProhibitedOverThisConnection": {-36, "Pairing prohibited over this connection"},
	"FMiPProtected":                       {-37, "Find My iPhone/iPod/iPad protected"},
	"MCProtected":                         {-38, "MC protected"},
	"MCChallengeRequired":                 {-39, "MC challenge required"},
	"InvalidConnection":                   {-256, "Invalid connection"},
}

// Failures that are not lockdownd Error replies.
var (
	// ErrTLS: the session TLS handshake failed with our pair record (the
	// phone no longer accepts it, or the record is corrupt). The Conn is
	// unusable afterwards.
	ErrTLS = errors.New("lockdown: session TLS handshake failed")
	// ErrProtocol: the peer sent something that is not lockdown protocol
	// (bad length, garbage, a reply missing what the request needs).
	ErrProtocol = errors.New("lockdown: protocol error")
	// ErrTimeout: the context's deadline (or DefaultTimeout) passed.
	ErrTimeout = errors.New("lockdown: timed out")
	// ErrDisconnected: the device side closed the connection.
	ErrDisconnected = errors.New("lockdown: connection closed by the device")
	// ErrClosed: the Conn or stream was closed by us.
	ErrClosed = errors.New("lockdown: connection closed")
	// ErrProxyDeath: the notification proxy announced it is going away.
	ErrProxyDeath = errors.New("lockdown: notification proxy died")
	// ErrBadPairRecord: a pair record that cannot be parsed or used.
	ErrBadPairRecord = errors.New("lockdown: unusable pair record")
)
