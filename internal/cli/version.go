package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/apictl/apictl/internal/report"
)

// BuildInfo is the version stamped by the release build with ldflags.
type BuildInfo struct {
	Version, Commit, Date string
}

// String is the one-line version shown by `apictl version` and --version.
// Without ldflags (go install, go run) it falls back to the module version
// and VCS data of the build.
func (b BuildInfo) String() string {
	version, commit, date := b.Version, b.Commit, b.Date
	if version == "" || version == "dev" {
		if info, ok := debug.ReadBuildInfo(); ok {
			if v := info.Main.Version; v != "" && v != "(devel)" {
				version = v
			}
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					if commit == "" {
						commit = s.Value
					}
				case "vcs.time":
					if date == "" {
						date = s.Value
					}
				}
			}
		}
	}
	if version == "" {
		version = "dev"
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	s := "apictl " + version
	if commit != "" {
		s += " (" + commit
		if date != "" {
			s += ", " + date
		}
		s += ")"
	}
	return s
}

// VersionJSON is the JSON output of `apictl version -o json`.
type VersionJSON struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Date    string `json:"date,omitempty"`
	// String is the line `apictl version` prints.
	String string `json:"string"`
}

// JSON returns the version as `apictl version -o json` prints it.
func (b BuildInfo) JSON() VersionJSON {
	line := b.String()
	v := VersionJSON{Version: b.Version, Commit: b.Commit, Date: b.Date, String: line}
	// The line holds what build info filled in: "apictl VERSION (COMMIT, DATE)".
	rest := strings.TrimPrefix(line, "apictl ")
	version, meta, _ := strings.Cut(rest, " (")
	v.Version = version
	if meta = strings.TrimSuffix(meta, ")"); meta != "" {
		v.Commit, v.Date, _ = strings.Cut(meta, ", ")
	}
	return v
}

// NewCmdVersion prints the version.
func NewCmdVersion(f *Factory, build BuildInfo) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the apictl version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Output != nil && f.Output().Format == report.FormatJSON {
				return report.RenderJSON(f.IO.Out, build.JSON())
			}
			_, err := fmt.Fprintln(f.IO.Out, build.String())
			return err
		},
	}
}
