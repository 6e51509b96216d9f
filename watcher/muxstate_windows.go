package watcher

import (
	"errors"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

// On Windows usbmuxd is Apple Mobile Device Service on 127.0.0.1:27015,
// installed by iTunes or by the Apple Devices app. When 27015 refuses, the
// service control manager says why, asked with the least access a normal
// user has (SC_MANAGER_CONNECT, then SERVICE_QUERY_STATUS and
// SERVICE_QUERY_CONFIG, which services grant to interactive users by
// default; x/sys's svc/mgr asks for full access and fails for them). A
// Microsoft Store install may run no such service, only
// AppleMobileDeviceProcess.exe, so that process and the Store packages are
// looked for too.

// Names, variables so that the Wine tests can use throwaway ones.
var (
	appleServiceName = "Apple Mobile Device Service"
	appleProcessName = "AppleMobileDeviceProcess.exe"
	// Store packages whose presence means "installed from the Store":
	// Apple Devices, and iTunes from the Store.
	storePackagePrefixes = []string{"AppleInc.AppleDevices_", "AppleInc.iTunes_"}
	storePackagesKey     = `Software\Classes\Local Settings\Software\Microsoft\Windows\CurrentVersion\AppModel\Repository\Packages`
)

// refusedOS: Winsock's refusal is not syscall.ECONNREFUSED on Windows.
func refusedOS(err error) bool { return errors.Is(err, windows.WSAECONNREFUSED) }

func daemonAbsent() engine.MuxState { return classifyService(readServiceFacts()) }

func readServiceFacts() serviceFacts {
	var f serviceFacts
	f.installed, f.state, f.disabled, f.queryError = queryService(appleServiceName)
	if !f.installed || f.state != serviceRunning {
		f.processUp = processRunning(appleProcessName)
	}
	if !f.installed && !f.processUp {
		f.storeApp = storePackageInstalled()
	}
	return f
}

// queryService asks the SCM with the least access that works for a normal
// user. A missing service is installed false with no error.
func queryService(name string) (installed bool, state uint32, disabled bool, err error) {
	m, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return false, 0, false, err
	}
	defer windows.CloseServiceHandle(m)
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return false, 0, false, err
	}
	s, err := windows.OpenService(m, n, windows.SERVICE_QUERY_STATUS|windows.SERVICE_QUERY_CONFIG)
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		// A locked-down service: the status alone still tells a lot.
		s, err = windows.OpenService(m, n, windows.SERVICE_QUERY_STATUS)
	}
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return false, 0, false, nil
	}
	if err != nil {
		return false, 0, false, err
	}
	defer windows.CloseServiceHandle(s)
	var st windows.SERVICE_STATUS
	if err := windows.QueryServiceStatus(s, &st); err != nil {
		return true, 0, false, err
	}
	return true, st.CurrentState, startTypeDisabled(s), nil
}

// startTypeDisabled reads the start type; false when it cannot.
func startTypeDisabled(s windows.Handle) bool {
	var need uint32
	err := windows.QueryServiceConfig(s, nil, 0, &need)
	if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || need == 0 || need > 1<<16 {
		return false
	}
	buf := make([]byte, need)
	cfg := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&buf[0]))
	if windows.QueryServiceConfig(s, cfg, need, &need) != nil {
		return false
	}
	return cfg.StartType == windows.SERVICE_DISABLED
}

// processRunning looks for an executable by name among all processes
// (names are visible to every user).
func processRunning(exe string) bool {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return false
	}
	defer windows.CloseHandle(snap)
	var e windows.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		if strings.EqualFold(windows.UTF16ToString(e.ExeFile[:]), exe) {
			return true
		}
	}
	return false
}

// storePackageInstalled: Store packages registered for this user appear
// under the AppModel repository in HKCU, which the user can read.
func storePackageInstalled() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, storePackagesKey, registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return false
	}
	defer k.Close()
	names, err := k.ReadSubKeyNames(-1)
	if err != nil {
		return false
	}
	for _, n := range names {
		for _, p := range storePackagePrefixes {
			if strings.HasPrefix(n, p) {
				return true
			}
		}
	}
	return false
}
