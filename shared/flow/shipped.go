package flow

import _ "embed"

// ShippedName is the file name of the shipped flow (for problem positions).
const ShippedName = "sonnenschein.json"

//go:embed shipped/sonnenschein.json
var shipped []byte

// Shipped returns the flow document shipped with Siegel: the German and
// English flow of a bicycle repair shop, "Fahrradwerkstatt Sonnenschein",
// used by the demo. It passes Check. The caller gets its own copy.
func Shipped() []byte {
	return append([]byte(nil), shipped...)
}
