// Package art draws trustwatch's icons: a phone silhouette with a state
// badge. It is plain Go (no assets) so `go generate ./icons` can rebuild
// every file from this source, and tests can check the committed files
// are exactly what the source draws.
package art

import (
	"image"
	"image/color"
	"math"
)

// Kind is what an icon shows.
type Kind int

// The icon kinds: one per overall tray state, plus the app icon.
const (
	Idle      Kind = iota // no phone connected: phone alone, no badge
	OK                    // every phone ready: green check
	Waiting               // the phone waits for the user (unlock it, tap Trust): blue "…"
	Attention             // trust needs fixing from this computer (Fix trust, re-plug): amber "!"
	Problem               // link, driver or diagnosis problem: red "×"
	App                   // the application icon
)

// Kinds lists every kind, in a stable order for generators and tests.
var Kinds = []Kind{Idle, OK, Waiting, Attention, Problem, App}

// Name is the file-name stem for k.
func (k Kind) Name() string {
	switch k {
	case Idle:
		return "idle"
	case OK:
		return "ok"
	case Waiting:
		return "waiting"
	case Attention:
		return "attention"
	case Problem:
		return "problem"
	case App:
		return "app"
	}
	return "unknown"
}

var (
	outline   = color.NRGBA{0x26, 0x2a, 0x30, 0xff} // phone edge: dark, so it shows on light panels
	body      = color.NRGBA{0xf4, 0xf5, 0xf7, 0xff} // phone face: light, so it shows on dark panels
	idleBody  = color.NRGBA{0xc9, 0xcd, 0xd3, 0xff} // dimmer face: nothing is going on
	appScreen = color.NRGBA{0x1a, 0x6f, 0xe0, 0xff}
	white     = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	black     = color.NRGBA{0x00, 0x00, 0x00, 0xff}
)

func badgeColor(k Kind) color.NRGBA {
	switch k {
	case OK:
		return color.NRGBA{0x1e, 0x8e, 0x3e, 0xff}
	case Waiting:
		return color.NRGBA{0x1a, 0x5f, 0xd0, 0xff}
	case Attention:
		return color.NRGBA{0xe3, 0x8b, 0x00, 0xff}
	default:
		return color.NRGBA{0xd3, 0x2f, 0x2f, 0xff}
	}
}

// geometry is the layout at one pixel size, in pixels. Edges are snapped
// to whole pixels so 16 px icons stay crisp instead of blurring.
type geometry struct {
	px0, py0, px1, py1 float64 // phone body
	radius, stroke     float64
	bx, by, br, gap    float64 // badge centre, radius, transparent ring around it
	glyph              float64 // glyph stroke width
	dot, dotGap        float64 // Waiting's dots: size and centre spacing, in pixels
}

func layout(size int) geometry {
	s := float64(size)
	k := s / 32
	snap := func(v float64) float64 { return math.Round(v * k) }
	g := geometry{
		px0: snap(5), py0: snap(1), px1: snap(23), py1: s - snap(1),
		radius: math.Max(1.5, 4*k),
		stroke: math.Max(1, math.Round(2*k)),
	}
	// The badge sits in the lower right corner and touches the edges, so
	// it is as large as the canvas allows: that is what reads at 16 px.
	d := math.Round(18 * k)
	if size <= 16 {
		d = 9
	}
	g.br = d / 2
	g.bx, g.by = s-g.br, s-g.br
	g.gap = math.Max(1, math.Round(1.5*k))
	g.glyph = math.Max(1.5, 0.3*g.br)
	// Waiting's dots are whole pixels, an odd number wide when the badge
	// centre is a pixel centre and an even number when it is a pixel
	// corner, so they sit on the grid and stay symmetric; anything else
	// smears into grey at 16–24 px.
	g.dot = math.Max(1, math.Round(0.3*g.br))
	if centred := g.bx != math.Floor(g.bx); centred != (int(g.dot)%2 == 1) {
		if g.dot > 0.3*g.br && g.dot > 1 {
			g.dot-- // the nearer size of the right parity
		} else {
			g.dot++
		}
	}
	g.dotGap = math.Max(g.dot+1, math.Min(math.Round(0.5*g.br+0.8), math.Floor(0.85*g.br-g.dot/2)))
	return g
}

// Badge is where the state badge sits in a size×size icon: its centre and
// radius in pixels, for tests that look inside it.
func Badge(size int) (cx, cy, r float64) {
	g := layout(size)
	return g.bx, g.by, g.br
}

// Draw renders kind k at size×size pixels. template=true draws the macOS
// menu-bar form: black plus alpha only, the system tints it.
func Draw(k Kind, size int, template bool) *image.NRGBA {
	g := layout(size)
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	// Supersamples per axis: 8 keeps curves smooth at tray sizes; above
	// 256 px (the macOS app icon's 512 and 1024) 4 is as smooth and 4× faster.
	ss := 8
	if size > 256 {
		ss = 4
	}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, gg, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					fx := float64(x) + (float64(sx)+0.5)/float64(ss)
					fy := float64(y) + (float64(sy)+0.5)/float64(ss)
					c := shade(k, g, fx, fy, template)
					// accumulate premultiplied so edges do not darken
					fa := float64(c.A) / 255
					r += float64(c.R) * fa
					gg += float64(c.G) * fa
					b += float64(c.B) * fa
					a += fa
				}
			}
			if a == 0 {
				continue
			}
			n := float64(ss * ss)
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(math.Round(r / a)), G: uint8(math.Round(gg / a)), B: uint8(math.Round(b / a)),
				A: uint8(math.Round(a / n * 255)),
			})
		}
	}
	return img
}

// shade is the colour of the scene at one point; layers are painted back
// to front.
func shade(k Kind, g geometry, x, y float64, template bool) color.NRGBA {
	var c color.NRGBA // transparent
	badge := k == OK || k == Waiting || k == Attention || k == Problem
	if badge && dist(x, y, g.bx, g.by) <= g.br+g.gap {
		// the ring around the badge is cut out of the phone so the two
		// shapes stay apart at any size
		if dist(x, y, g.bx, g.by) > g.br {
			return c
		}
		if glyphAt(k, g, x-g.bx, y-g.by) {
			if template {
				return c
			}
			return white
		}
		if template {
			return black
		}
		return badgeColor(k)
	}
	if inRoundRect(x, y, g.px0, g.py0, g.px1, g.py1, g.radius) {
		inner := inRoundRect(x, y, g.px0+g.stroke, g.py0+g.stroke, g.px1-g.stroke, g.py1-g.stroke, math.Max(0.5, g.radius-g.stroke))
		switch {
		case template && inner && k == App:
			return screenMark(g, x, y, black, c)
		case template && inner && g.speaker(x, y):
			return black
		case template && inner:
			return c
		case template:
			return black
		case !inner:
			return outline
		case k == App:
			return screenMark(g, x, y, white, appScreen)
		case g.speaker(x, y):
			return outline
		case k == Idle:
			return idleBody
		default:
			return body
		}
	}
	return c
}

// speaker reports whether (x, y) is on the earpiece slot at the top of the
// face: the one detail that makes the rectangle read as a phone. Below 20
// px it would only be noise.
func (g geometry) speaker(x, y float64) bool {
	if g.px1-g.px0 < 10 {
		return false
	}
	cx := (g.px0 + g.px1) / 2
	w := math.Round((g.px1 - g.px0) / 3)
	top := g.py0 + g.stroke + math.Max(1, math.Round(g.stroke))
	return inRoundRect(x, y, cx-w/2, top, cx+w/2, top+g.stroke, g.stroke/2)
}

// screenMark is the app icon's face: a check mark on the phone's screen.
func screenMark(g geometry, x, y float64, mark, bg color.NRGBA) color.NRGBA {
	cx := (g.px0 + g.px1) / 2
	cy := (g.py0 + g.py1) / 2
	w := (g.px1 - g.px0 - 2*g.stroke) / 2 * 0.8
	lw := math.Max(1.2, w*0.32)
	if onPolyline(x-cx, y-cy, lw, [][2]float64{{-w * 0.85, 0}, {-w * 0.25, w * 0.6}, {w * 0.85, -w * 0.6}}) {
		return mark
	}
	return bg
}

// glyphAt reports whether the badge glyph covers (x, y), relative to the
// badge centre.
func glyphAt(k Kind, g geometry, x, y float64) bool {
	r := g.br
	w := g.glyph
	switch k {
	case OK:
		return onPolyline(x, y, w, [][2]float64{{-0.52 * r, 0.02 * r}, {-0.15 * r, 0.40 * r}, {0.50 * r, -0.38 * r}})
	case Waiting:
		// three dots, "…": the phone is waiting for you
		for _, cx := range []float64{-g.dotGap, 0, g.dotGap} {
			dx, dy := math.Abs(x-cx), math.Abs(y)
			if g.dot <= 3 && math.Max(dx, dy) <= g.dot/2 || dist(dx, dy, 0, 0) <= g.dot/2 {
				return true
			}
		}
		return false
	case Attention:
		bar := math.Abs(x) <= w/2 && y >= -0.62*r && y <= 0.12*r
		dot := dist(x, y, 0, 0.46*r) <= math.Max(w*0.6, 0.75)
		return bar || dot
	case Problem:
		e := 0.40 * r
		return onPolyline(x, y, w, [][2]float64{{-e, -e}, {e, e}}) || onPolyline(x, y, w, [][2]float64{{-e, e}, {e, -e}})
	}
	return false
}

func dist(x0, y0, x1, y1 float64) float64 { return math.Hypot(x1-x0, y1-y0) }

func inRoundRect(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(x, x1-r))
	cy := math.Max(y0+r, math.Min(y, y1-r))
	return dist(x, y, cx, cy) <= r
}

// onPolyline reports whether (x, y) is within w/2 of the polyline.
func onPolyline(x, y, w float64, pts [][2]float64) bool {
	for i := 0; i+1 < len(pts); i++ {
		if segDist(x, y, pts[i], pts[i+1]) <= w/2 {
			return true
		}
	}
	return false
}

func segDist(x, y float64, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := ((x-a[0])*dx + (y-a[1])*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return dist(x, y, a[0]+t*dx, a[1]+t*dy)
}
