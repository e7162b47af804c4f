// Command chime writes the panel's urgent-alert sound: a short two-note
// chime as a 16-bit mono WAV, synthesised here so that sendbox ships no
// recorded or copyrighted audio. ui/ui.go runs it through go generate.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"log"
	"math"
	"os"
)

const rate = 16000 // samples per second: plenty for a chime, and small

func main() {
	out := flag.String("o", "urgent.wav", "the WAV file to write")
	flag.Parse()
	// Two bell-like notes a fifth apart, A5 then D5, each with a soft
	// attack, an octave partial and an exponential decay.
	var samples []float64
	for _, n := range []struct{ freq, secs float64 }{{880, 0.22}, {587.33, 0.42}} {
		count := int(n.secs * rate)
		for i := range count {
			t := float64(i) / rate
			attack := math.Min(1, t/0.005)
			decay := math.Exp(-t * 7)
			v := math.Sin(2*math.Pi*n.freq*t) + 0.35*math.Sin(2*math.Pi*2*n.freq*t)
			samples = append(samples, 0.45*attack*decay*v)
		}
	}
	var data bytes.Buffer
	for _, s := range samples {
		binary.Write(&data, binary.LittleEndian, int16(math.Max(-1, math.Min(1, s))*math.MaxInt16))
	}
	var w bytes.Buffer
	w.WriteString("RIFF")
	binary.Write(&w, binary.LittleEndian, uint32(36+data.Len()))
	w.WriteString("WAVE")
	w.WriteString("fmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} {
		binary.Write(&w, binary.LittleEndian, v)
	}
	w.WriteString("data")
	binary.Write(&w, binary.LittleEndian, uint32(data.Len()))
	w.Write(data.Bytes())
	if err := os.WriteFile(*out, w.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
