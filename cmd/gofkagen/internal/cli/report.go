package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// report prints every error, one per line, with file names relative to the root
// of the module holding dir: in a position at the start of the line and in one
// inside the message alike, for the compiler's errors and Go's type errors. After
// go generate ./... at the module's root, each names its file unambiguously.
func report(stderr io.Writer, dir string, errs []error) error {
	prefixes := modulePrefixes(dir)
	for _, err := range errs {
		text := err.Error()
		for _, p := range prefixes {
			text = strings.ReplaceAll(text, p, "")
		}
		fmt.Fprintln(stderr, text)
	}
	return errReported
}

// modulePrefixes returns the directory of the module holding dir, as an absolute
// path ending in a separator, and also without symbolic links if that differs,
// the longer first (it may contain the other); nil if dir is in no module.
func modulePrefixes(dir string) []string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			prefixes := []string{d + string(filepath.Separator)}
			if real, err := filepath.EvalSymlinks(d); err == nil && real != d {
				prefixes = append(prefixes, real+string(filepath.Separator))
				if len(prefixes[1]) > len(prefixes[0]) {
					prefixes[0], prefixes[1] = prefixes[1], prefixes[0]
				}
			}
			return prefixes
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}
