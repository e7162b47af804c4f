package server

import (
	"net/http"
	"strings"

	"sendbox/vehicle"
)

// The sandbox's demo auto-parts catalogue (vehicle.Demo): a small JSON API
// that the ready-made auto-parts flow calls out of the box, through the
// same guarded HTTP client as any flow. It stands in for a dealer's public
// catalogue, so it asks for no key; it exists only in sandbox mode.

type compatibility struct {
	Compatible bool    `json:"compatible"`
	Vehicle    string  `json:"vehicle"`
	Plate      string  `json:"plate"`
	Country    string  `json:"country"`
	VIN        string  `json:"vin"`
	Part       string  `json:"part"`
	SKU        string  `json:"sku,omitempty"`
	PriceEUR   float64 `json:"price_eur,omitempty"`
	InStock    int     `json:"in_stock"`
	Reason     string  `json:"reason,omitempty"`
}

// handleCatalogueCompatibility answers whether a part fits a car, named by
// ?plate= (Italian or French) or ?vin=, and ?part= (a code or a name in
// Italian, French or English).
func (a *Server) handleCatalogueCompatibility(w http.ResponseWriter, r *http.Request) {
	if !a.needSandboxFor(w, "the demo catalogue") {
		return
	}
	q := r.URL.Query()
	plate, vin, part := strings.TrimSpace(q.Get("plate")), strings.TrimSpace(q.Get("vin")), strings.TrimSpace(q.Get("part"))
	var v *vehicle.Vehicle
	var ok bool
	switch {
	case plate == "" && vin == "":
		writeFieldError(w, http.StatusBadRequest, "invalid_query", "plate", "give the car's plate (plate=AB123CD) or its VIN (vin=…)")
		return
	case plate != "" && vin != "":
		writeFieldError(w, http.StatusBadRequest, "invalid_query", "vin", "give the plate or the VIN, not both")
		return
	case plate != "":
		if !vehicle.ValidPlate("IT", plate) && !vehicle.ValidPlate("FR", plate) {
			writeFieldError(w, http.StatusBadRequest, "invalid_query", "plate", "not an Italian (AB123CD) or French (AB-123-CD) plate")
			return
		}
		v, ok = vehicle.Demo.ByPlate(plate)
	default:
		n, valid := vehicle.NormalizeVIN(vin)
		if !valid {
			writeFieldError(w, http.StatusBadRequest, "invalid_query", "vin", "a VIN is 17 letters and digits, without I, O or Q")
			return
		}
		v, ok = vehicle.Demo.ByVIN(n)
	}
	if part == "" {
		writeFieldError(w, http.StatusBadRequest, "invalid_query", "part", "say which part: part=brake pads (or pastiglie freno, plaquettes de frein)")
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_vehicle", "the catalogue knows no car with this plate or VIN")
		return
	}
	p, ok := vehicle.Demo.FindPart(part)
	if !ok {
		var names []string
		for _, p := range vehicle.Demo.Parts() {
			names = append(names, strings.ToLower(p.Name))
		}
		writeError(w, http.StatusNotFound, "unknown_part", "the catalogue has no such part; it has: "+strings.Join(names, ", "))
		return
	}
	f := vehicle.Demo.Fit(v, p)
	writeJSON(w, http.StatusOK, compatibility{Compatible: f.Compatible, Vehicle: v.Name(), Plate: v.Plate, Country: v.Country,
		VIN: v.VIN, Part: p.Name, SKU: f.SKU, PriceEUR: f.PriceEUR, InStock: f.InStock, Reason: f.Reason})
}

// handleCatalogueParts lists the parts and the names customers use for them.
func (a *Server) handleCatalogueParts(w http.ResponseWriter, r *http.Request) {
	if !a.needSandboxFor(w, "the demo catalogue") {
		return
	}
	parts := vehicle.Demo.Parts()
	writeJSON(w, http.StatusOK, list[vehicle.Part]{Data: parts, Total: len(parts)})
}
