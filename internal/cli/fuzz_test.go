package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apictl/apictl/internal/loadtest"
)

// FuzzWeights: any set of --weight values (one per line) either sets
// weights from 1 to loadtest.MaxWeight on the targets it names, leaving the
// mix valid, or is refused with a flag error that quotes the value; it
// never panics. An accepted value written back as NAME=N reads the same.
func FuzzWeights(f *testing.F) {
	f.Add("GET /pets=5")
	f.Add("GET /pets=5\nPOST /orders = 2")
	f.Add("http://127.0.0.1:8080/pets?limit=10=3")
	f.Add("GET /pets=0")
	f.Add("GET /pets=99999999999999999999")
	f.Add("=3")
	f.Add("GET /nowhere=1")
	f.Fuzz(func(t *testing.T, s string) {
		ts := loadtest.Targets{
			{Name: "GET /pets", Method: "GET", URL: "http://127.0.0.1:8080/pets?limit=10"},
			{Name: "POST /orders", Method: "POST", URL: "http://127.0.0.1:8080/orders"},
		}
		weights := strings.Split(s, "\n")
		err := applyWeights(ts, weights)
		if err != nil {
			var fe *FlagError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "--weight \"") {
				t.Fatalf("error %v (%T): want a flag error quoting the --weight value", err, err)
			}
			return
		}
		if err := ts.Validate(); err != nil {
			t.Fatalf("weights %q accepted, but the mix is invalid: %v", weights, err)
		}
		for _, w := range weights {
			name, n, err := parseWeight(w)
			if err != nil || n < 1 || n > loadtest.MaxWeight {
				t.Fatalf("%q accepted by applyWeights, parseWeight gives %q %d %v", w, name, n, err)
			}
			again, m, err := parseWeight(fmt.Sprintf("%s=%d", name, n))
			if err != nil || again != name || m != n {
				t.Fatalf("%q: written back as %s=%d it reads %q %d %v", w, name, n, again, m, err)
			}
		}
	})
}
