// Package service is trustwatch's place in the user's session: the login item
// that starts the tray at login, the single-instance lock, the log
// destination and the refusal to run as root.
//
// The login item is always per user and starts the tray (the absolute,
// symlink-resolved executable, no verb):
//
//   - Linux with a systemd user manager: ~/.config/systemd/user/trustwatch.service,
//     written and enabled through kardianos/service with our own template
//     (WantedBy=default.target graphical-session.target, PartOf=/After=graphical-session.target,
//     Restart=on-failure). Without one (or if enabling fails, or for a path
//     systemd cannot execute): $XDG_CONFIG_HOME/autostart/trustwatch.desktop.
//   - macOS: ~/Library/LaunchAgents/com.github.trustwatch.plist through
//     kardianos/service with our own plist (RunAtLoad, no KeepAlive, Aqua,
//     Interactive, logs in ~/Library/Logs/trustwatch).
//   - Windows: HKCU\Software\Microsoft\Windows\CurrentVersion\Run\trustwatch,
//     honouring Task Manager's StartupApproved flag. Never a service: session
//     0 can show neither a tray icon nor a toast.
//
// Only one mechanism is kept at a time. Everything the code touches (home,
// XDG folders, the systemd probe, the registry subtree) lives in an env value
// so tests run against a temporary HOME or a throwaway registry key.
package service
