package catalog

// Reshaped is w with every message it renders passed through f: a
// pseudo-locale for tests (every string lengthened and bracketed, so a
// test can see where a surface cuts text) without a language of its own in
// the binary. Placeholders are filled before f sees the text.
func (w Words) Reshaped(f func(string) string) Words {
	w.reshape = f
	return w
}
