package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// DocsOptions are the options of `apictl docs`.
type DocsOptions struct {
	IO   *IOStreams
	Dir  string
	Root *cobra.Command
}

// NewCmdDocs writes a markdown page per command, generated from the command
// tree, so docs/cli never drifts from --help.
func NewCmdDocs(f *Factory, runF func(*DocsOptions) error) *cobra.Command {
	opts := &DocsOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:     "docs",
		Short:   "Write the command reference as markdown, one page per command",
		Hidden:  true,
		Args:    cobra.NoArgs,
		Example: `  apictl docs --dir docs/cli`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Root = cmd.Root()
			if runF != nil {
				return runF(opts)
			}
			return docsRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "docs/cli", "directory to write the pages to")
	return cmd
}

func docsRun(opts *DocsOptions) error {
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return fmt.Errorf("create docs directory: %w", err)
	}
	opts.Root.DisableAutoGenTag = true
	if err := doc.GenMarkdownTree(opts.Root, opts.Dir); err != nil {
		return fmt.Errorf("write docs to %s: %w", opts.Dir, err)
	}
	files, _ := filepath.Glob(filepath.Join(opts.Dir, "*.md"))
	fmt.Fprintf(opts.IO.ErrOut, "wrote %d pages to %s\n", len(files), opts.Dir)
	return nil
}
