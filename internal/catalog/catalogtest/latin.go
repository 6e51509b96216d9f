// Package catalogtest holds what tests in several packages check about
// translated text: that Russian (or any non-Latin-script) output has no
// English left in it.
package catalogtest

import (
	"regexp"
	"strings"
)

// AllowedLatin are the words that stay in Latin letters in Russian text:
// names of products, programs, companies, systems and standards, as Apple's
// and the vendors' Russian pages write them.
var AllowedLatin = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`iPhone iTunes Finder usbmuxd Apple trustwatch Windows macOS Linux USB Wi-Fi
		Mac iOS Face ID Touch Lightning USB-C MFi Made for Microsoft Store Catalina GNOME Dolphin
		libimobiledevice libusbmuxd Debian Ubuntu Fedora Arch openSUSE SE DFU VPN MDM SSL ssh
		Mobile Device Service Win R KDE Plasma Xfce Cinnamon MATE Budgie StatusNotifierItem waybar
		XEmbed snixembed AppIndicator and KStatusNotifierItem Support Bluetooth AirDrop App CD DVD
		Lockdown`) {
		AllowedLatin[w] = true
	}
}

// latinWord is a word in Latin letters; "6s" in "iPhone 6s" is a model
// number, not a word.
var latinWord = regexp.MustCompile(`\b[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*`)

// StrayLatin returns the Latin-letter words of text that are not on the
// allowed list (plus any extra words the caller allows: commands, flags).
func StrayLatin(text string, extra ...string) []string {
	var out []string
	for _, w := range latinWord.FindAllString(text, -1) {
		if !AllowedLatin[w] && !contains(extra, w) {
			out = append(out, w)
		}
	}
	return out
}

// LatinWords counts text's Latin-letter words, so a check can show it is
// not blind (English text must yield many).
func LatinWords(text string) int { return len(latinWord.FindAllString(text, -1)) }

func contains(list []string, w string) bool {
	for _, s := range list {
		if s == w {
			return true
		}
	}
	return false
}
