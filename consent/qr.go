package consent

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	qr "github.com/piglig/go-qr"
)

// quiet is the white border around a QR code, in modules: the standard's 4.
const quiet = 4

// QRPNG draws text as a QR code in a PNG, scale pixels per module
// (medium error correction: a printed code survives a smudge).
func QRPNG(text string, scale int) ([]byte, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	scale = max(1, min(scale, 40))
	n := code.Size() + 2*quiet
	img := image.NewPaletted(image.Rect(0, 0, n*scale, n*scale), color.Palette{color.White, color.Black})
	for y := range code.Size() {
		for x := range code.Size() {
			if !code.Module(x, y) {
				continue
			}
			for dy := range scale {
				row := img.Pix[((y+quiet)*scale+dy)*img.Stride:]
				for dx := range scale {
					row[(x+quiet)*scale+dx] = 1
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// QRSVG draws text as a QR code in an SVG: one path of unit squares,
// which scales to any size without blur.
func QRSVG(text string) ([]byte, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	n := code.Size() + 2*quiet
	var path strings.Builder
	for y := range code.Size() {
		for x := range code.Size() {
			if code.Module(x, y) {
				fmt.Fprintf(&path, "M%d,%dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 %d %d" shape-rendering="crispEdges">`+
		`<rect width="100%%" height="100%%" fill="#FFFFFF"/><path d="%s" fill="#000000"/></svg>`+"\n", n, n, path.String())
	return b.Bytes(), nil
}
