package vehicle

import (
	"fmt"
	"strings"
)

// Vehicle is a car the catalogue knows by plate and VIN.
type Vehicle struct {
	Plate   string // as its country writes it (NormalizePlate)
	Country string // IT or FR
	VIN     string
	Make    string
	Model   string
	Engine  string
	Year    int
	code    string // in the SKUs: FP-19
}

// Name is how a person names the car: "Fiat Panda 1.2 2019".
func (v *Vehicle) Name() string { return fmt.Sprintf("%s %s %s %d", v.Make, v.Model, v.Engine, v.Year) }

// Part is a kind of part, whatever the car.
type Part struct {
	Code string `json:"code"` // in the SKUs: BP
	Name string `json:"name"`
	// Aliases are what customers write for it, in Italian, French and
	// English, lower case and without accents.
	Aliases []string `json:"aliases"`
}

// Fit is the catalogue's answer for one part on one car.
type Fit struct {
	Compatible bool
	SKU        string  // when compatible
	PriceEUR   float64 // when compatible
	InStock    int
	Reason     string // when not compatible: why, for a person
}

// Catalogue answers which part fits which car. It is read-only.
type Catalogue struct {
	vehicles []*Vehicle
	parts    []*Part
	offers   map[string]map[string]Fit // vehicle code, part code
}

// Parts lists the parts, in catalogue order.
func (c *Catalogue) Parts() []Part {
	out := make([]Part, len(c.parts))
	for i, p := range c.parts {
		out[i] = *p
	}
	return out
}

// Vehicles lists the cars, in catalogue order.
func (c *Catalogue) Vehicles() []Vehicle {
	out := make([]Vehicle, len(c.vehicles))
	for i, v := range c.vehicles {
		out[i] = *v
	}
	return out
}

// ByPlate finds a car by its plate, written any way NormalizePlate takes.
func (c *Catalogue) ByPlate(plate string) (*Vehicle, bool) {
	p := compact(plate)
	for _, v := range c.vehicles {
		if compact(v.Plate) == p {
			return v, true
		}
	}
	return nil, false
}

// ByVIN finds a car by its VIN, in any case.
func (c *Catalogue) ByVIN(vin string) (*Vehicle, bool) {
	vin = strings.ToUpper(strings.TrimSpace(vin))
	for _, v := range c.vehicles {
		if v.VIN == vin {
			return v, true
		}
	}
	return nil, false
}

// FindPart finds a part by its code ("BP") or by what a customer calls it
// ("brake pads", "pastiglie freno", "plaquettes de frein").
func (c *Catalogue) FindPart(q string) (*Part, bool) {
	q = simplify(q)
	for _, p := range c.parts {
		if strings.EqualFold(q, p.Code) || simplify(p.Name) == q {
			return p, true
		}
		for _, a := range p.Aliases {
			if a == q {
				return p, true
			}
		}
	}
	return nil, false
}

// Fit says whether the part fits the car, and its SKU, price and stock.
func (c *Catalogue) Fit(v *Vehicle, p *Part) Fit {
	return c.offers[v.code][p.Code]
}

// simplify lower-cases, drops accents and the apostrophe's kinds, and
// collapses spaces: "Plaquettes  de Frein" and "plaquettes de frein" match.
func simplify(s string) string {
	r := strings.NewReplacer("à", "a", "â", "a", "ä", "a", "é", "e", "è", "e", "ê", "e", "ë", "e",
		"î", "i", "ï", "i", "ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ç", "c", "’", "'")
	return strings.Join(strings.Fields(r.Replace(strings.ToLower(s))), " ")
}

// Demo is the sandbox's auto-parts catalogue: a dozen Italian and French
// cars and the parts customers ask for most. It stands in for a dealer's
// own catalogue, so that the ready-made auto-parts flow works out of the
// box; every answer is always the same.
var Demo = newDemo()

func newDemo() *Catalogue {
	c := &Catalogue{offers: map[string]map[string]Fit{}}
	c.parts = []*Part{
		{Code: "BP", Name: "Brake pads (front)", Aliases: []string{"brake pads", "brake pad", "front brake pads", "pads",
			"pastiglie", "pastiglie freno", "pastiglie dei freni", "pastiglie anteriori", "plaquettes", "plaquettes de frein", "plaquette de frein"}},
		{Code: "BD", Name: "Brake discs (front)", Aliases: []string{"brake discs", "brake disc", "brake disks", "discs",
			"dischi", "dischi freno", "dischi dei freni", "disques", "disques de frein", "disque de frein"}},
		{Code: "OF", Name: "Oil filter", Aliases: []string{"oil filter", "filtro olio", "filtro dell'olio", "filtre a huile"}},
		{Code: "AF", Name: "Air filter", Aliases: []string{"air filter", "filtro aria", "filtro dell'aria", "filtre a air"}},
		{Code: "WB", Name: "Wiper blades", Aliases: []string{"wiper blades", "wipers", "wiper", "tergicristalli", "spazzole tergicristallo",
			"essuie-glaces", "essuie-glace", "balais d'essuie-glace"}},
		{Code: "BT", Name: "Battery", Aliases: []string{"battery", "batteria", "batterie"}},
		{Code: "TB", Name: "Timing belt kit", Aliases: []string{"timing belt", "timing belt kit", "cambelt", "cinghia di distribuzione",
			"cinghia distribuzione", "kit distribuzione", "courroie de distribution", "kit de distribution", "kit distribution"}},
	}
	// Prices in euros and stock, in the order of the parts above; a
	// reason instead says why the part does not fit.
	type o struct {
		price float64
		stock int
		no    string
	}
	chain := func(v string) o {
		return o{no: "the " + v + " has a timing chain, not a belt: it needs no timing belt kit"}
	}
	add := func(v *Vehicle, offers ...o) {
		c.vehicles = append(c.vehicles, v)
		c.offers[v.code] = map[string]Fit{}
		for i, of := range offers {
			p := c.parts[i]
			if of.no != "" {
				c.offers[v.code][p.Code] = Fit{Reason: of.no}
				continue
			}
			c.offers[v.code][p.Code] = Fit{Compatible: true, SKU: p.Code + "-" + v.code, PriceEUR: of.price, InStock: of.stock}
		}
	}
	add(&Vehicle{Plate: "AB123CD", Country: "IT", VIN: "ZFA31200000J45678", Make: "Fiat", Model: "Panda", Engine: "1.2", Year: 2019, code: "FP-19"},
		o{42.5, 3, ""}, o{89.9, 2, ""}, o{9.8, 12, ""}, o{14.5, 6, ""}, o{24.9, 8, ""}, o{94, 1, ""}, o{159, 0, ""})
	add(&Vehicle{Plate: "EF456GH", Country: "IT", VIN: "ZFA3120000P567812", Make: "Fiat", Model: "500", Engine: "1.0 Hybrid", Year: 2021, code: "F5-21"},
		o{45, 5, ""}, o{92.5, 2, ""}, o{10.9, 9, ""}, o{15.9, 4, ""}, o{26.5, 7, ""}, o{139, 2, ""}, chain("Fiat 500 1.0 Hybrid"))
	add(&Vehicle{Plate: "FG789LM", Country: "IT", VIN: "ZLA31200000K78123", Make: "Lancia", Model: "Ypsilon", Engine: "1.2", Year: 2018, code: "LY-18"},
		o{41, 2, ""}, o{86, 0, ""}, o{9.8, 7, ""}, o{13.9, 3, ""}, o{23.9, 5, ""}, o{94, 1, ""}, o{162, 1, ""})
	add(&Vehicle{Plate: "GA321BC", Country: "IT", VIN: "ZAR94000007H31245", Make: "Alfa Romeo", Model: "Giulietta", Engine: "1.6 JTDm", Year: 2017, code: "AG-17"},
		o{58, 4, ""}, o{129, 1, ""}, o{13.5, 6, ""}, o{21.9, 2, ""}, o{29.9, 4, ""}, o{149, 0, ""}, o{245, 1, ""})
	add(&Vehicle{Plate: "DX654RT", Country: "IT", VIN: "WVWZZZAUZGW112358", Make: "Volkswagen", Model: "Golf", Engine: "2.0 TDI", Year: 2016, code: "VG-16"},
		o{54.9, 6, ""}, o{118, 3, ""}, o{12.9, 10, ""}, o{19.5, 5, ""}, o{31.5, 6, ""}, o{165, 2, ""}, o{289, 1, ""})
	add(&Vehicle{Plate: "FM987KP", Country: "IT", VIN: "VNKKH3D300A246813", Make: "Toyota", Model: "Yaris", Engine: "1.5 Hybrid", Year: 2020, code: "TY-20"},
		o{49.5, 3, ""}, o{104, 2, ""}, o{11.5, 8, ""}, o{17.9, 4, ""}, o{27.9, 5, ""}, o{129, 1, ""}, chain("Toyota Yaris 1.5 Hybrid"))
	add(&Vehicle{Plate: "HB246ZN", Country: "IT", VIN: "1C4BU0000MPA13579", Make: "Jeep", Model: "Renegade", Engine: "1.6 Multijet", Year: 2022, code: "JR-22"},
		o{62, 2, ""}, o{138, 1, ""}, o{13.9, 5, ""}, o{22.5, 3, ""}, o{32.9, 4, ""}, o{172, 0, ""}, o{259, 2, ""})
	add(&Vehicle{Plate: "GH-482-KL", Country: "FR", VIN: "VR3UPHNSKL1234567", Make: "Peugeot", Model: "208", Engine: "1.2 PureTech", Year: 2020, code: "P2-20"},
		o{44.9, 7, ""}, o{95, 3, ""}, o{10.5, 11, ""}, o{16.9, 6, ""}, o{25.9, 9, ""}, o{119, 2, ""}, o{229, 2, ""})
	add(&Vehicle{Plate: "EK-731-PM", Country: "FR", VIN: "VF1RJA00067891234", Make: "Renault", Model: "Clio", Engine: "1.0 TCe", Year: 2021, code: "RC-21"},
		o{43.5, 5, ""}, o{91, 2, ""}, o{10.9, 8, ""}, o{15.5, 5, ""}, o{24.5, 6, ""}, o{125, 1, ""}, chain("Renault Clio 1.0 TCe"))
	add(&Vehicle{Plate: "BZ-905-XW", Country: "FR", VIN: "VF1AG000166432109", Make: "Renault", Model: "Zoe", Engine: "R135", Year: 2022, code: "RZ-22"},
		o{47, 3, ""}, o{99, 1, ""}, o{no: "the Renault Zoe is electric: it has no engine oil"},
		o{no: "the Renault Zoe is electric: its engine takes in no air (ask for its cabin filter)"}, o{26.9, 4, ""}, o{139, 1, ""},
		o{no: "the Renault Zoe is electric: it has no timing belt"})
	add(&Vehicle{Plate: "FT-268-HN", Country: "FR", VIN: "VF7SXHNZTKT987654", Make: "Citroën", Model: "C3", Engine: "1.5 BlueHDi", Year: 2019, code: "C3-19"},
		o{46.5, 4, ""}, o{97.5, 2, ""}, o{11.9, 7, ""}, o{17.5, 3, ""}, o{25.5, 6, ""}, o{135, 0, ""}, o{239, 1, ""})
	add(&Vehicle{Plate: "DW-147-JR", Country: "FR", VIN: "UU15SDL1565432198", Make: "Dacia", Model: "Sandero", Engine: "1.0 SCe", Year: 2020, code: "DS-20"},
		o{36.9, 8, ""}, o{79, 4, ""}, o{8.9, 14, ""}, o{12.9, 7, ""}, o{21.9, 10, ""}, o{99, 3, ""}, chain("Dacia Sandero 1.0 SCe"))
	return c
}
