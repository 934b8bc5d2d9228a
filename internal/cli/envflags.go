package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// EnvPrefix prefixes the environment variable of every flag: --endpoint-url
// can also be set as APICTL_ENDPOINT_URL.
const EnvPrefix = "APICTL_"

// envHelp is said once, in the root command's help.
const envHelp = `Every flag can also be set in the environment as APICTL_<FLAG>, upper case
with dashes as underscores (APICTL_OUTPUT=json, APICTL_ENDPOINT_URL=...,
APICTL_AUTO_APPROVE=true); a flag given on the command line wins.`

// EnvName returns the environment variable that sets the flag name.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnvFlags sets every flag of cmd (its own and those it inherits) that
// was not given on the command line from its APICTL_ variable. Setting it
// through the flag set marks it changed, so commands treat it exactly like
// the flag.
func applyEnvFlags(cmd *cobra.Command, getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	var errs []string
	visit := func(fs *pflag.FlagSet) {
		fs.VisitAll(func(fl *pflag.Flag) {
			if fl.Changed || fl.Name == "help" || fl.Name == "version" {
				return
			}
			name := EnvName(fl.Name)
			v, ok := lookup(getenv, name)
			if !ok {
				return
			}
			if err := fs.Set(fl.Name, v); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", name, v, err))
			}
		})
	}
	visit(cmd.Flags())
	visit(cmd.InheritedFlags())
	if len(errs) > 0 {
		sort.Strings(errs)
		return FlagErrorf("invalid setting from the environment: %s", strings.Join(errs, "; "))
	}
	return nil
}

// lookup treats an empty variable as unset, as most tools do with
// APP_SETTING= in CI files.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}
