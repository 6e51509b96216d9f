package sim

import (
	"crypto/rand"
)

// preflightLocked imitates Linux usbmuxd's preflight worker on attach
// (usbmuxd src/preflight.c, protocol.md §6.1) and reports whether the
// device becomes visible. It works on the device state directly, counting
// the Pair it sends like any other.
func (d *Device) preflightLocked() bool {
	s := d.s
	switch d.fault {
	case FaultLockdownGarbage, FaultLockdownSilent, FaultLockdownReset, FaultConnectRefused, FaultTLSStall:
		// lockdownd_client_new or QueryType fails: the worker exits and the
		// phone is never listed.
		d.logLocked("preflight failed (" + d.fault.String() + "): not listed")
		return false
	}
	if rec, ok := s.store[normUDID(d.udid)]; ok {
		m, err := decodeDict(rec, true)
		if err == nil {
			hostID := str(m, "HostID")
			root, rootErr := parsePEMCert(data(m, "RootCertificate"))
			t := d.hosts[hostID]
			switch {
			case t == nil:
				// InvalidHostID: not paired, go on to pair.
			case d.bfu:
				// StartSession fails with PasswordProtected, which preflight
				// treats as paired.
				d.logLocked("preflight: session refused (locked since restart), treated as paired")
				return true
			case rootErr == nil && t.root.Equal(root):
				d.logLocked("preflight: paired")
				return true
			default:
				d.logLocked("preflight: stored pair record invalid (TLS fails), removing it")
				delete(s.store, normUDID(d.udid))
			}
		}
	}
	// Not paired: preflight pairs to make the alert appear.
	d.stats.PairRequests++
	switch {
	case d.denied:
		d.logLocked("preflight Pair -> UserDeniedPairing")
	case d.locked:
		d.logLocked("preflight Pair -> PasswordProtected")
	case d.dialog:
		d.stats.DialogFlashes++
		d.logLocked("preflight Pair -> PairingDialogResponsePending")
	default:
		d.dialog = true
		d.stats.DialogShows++
		d.logLocked("preflight Pair -> PairingDialogResponsePending")
	}
	if d.locked {
		// StartService insecure_notification_proxy fails with -17: listed,
		// nobody waits for Trust.
		return true
	}
	d.waiting = true
	d.logLocked("preflight: waiting for user to trust this computer")
	return true
}

// preflightPair is preflight's reaction to request_pair: pair with the
// daemon's own host identity, save the record with the DeviceID and so
// announce Paired to Listen clients.
func (d *Device) preflightPair() {
	s := d.s
	key, err := d.deviceKey()
	if err != nil {
		s.logf("sim: %s: preflight pairing: %v", d.cfg.Name, err)
		return
	}
	host, err := pooledHost("host")
	if err != nil {
		s.logf("sim: %s: preflight pairing: %v", d.cfg.Name, err)
		return
	}
	devDER, err := host.deviceCertFor(&key.PublicKey)
	if err != nil {
		s.logf("sim: %s: preflight pairing: %v", d.cfg.Name, err)
		return
	}
	escrow := make([]byte, 32)
	rand.Read(escrow)
	rec, err := d.hostRecord(host, devDER, escrow)
	if err != nil {
		s.logf("sim: %s: preflight pairing: %v", d.cfg.Name, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !d.visible {
		return // unplugged in the meantime: the worker is gone
	}
	d.stats.PairRequests++
	if !d.acceptNext || d.locked {
		// Locked again, or a client's Pair took the Trust first.
		d.logLocked("preflight Pair after Trust: too late")
		return
	}
	d.acceptNext = false
	d.hosts[s.hostID] = &hostTrust{root: host.rootCert, deviceCert: devDER, escrow: escrow}
	s.store[normUDID(d.udid)] = rec
	d.stats.SavePairRecords++
	d.logLocked("preflight: user trusted this computer, paired, record saved")
	s.broadcastLocked(map[string]any{"MessageType": "Paired", "DeviceID": d.id})
}
