package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEveryOption keeps the README's configuration table in step
// with the table in code.
func TestREADMEListsEveryOption(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, o := range Options {
		row := "| `" + o.Env + "` |"
		if !strings.Contains(readme, row) {
			t.Errorf("README.md has no row for %s", o.Env)
			continue
		}
		line := readme[strings.Index(readme, row):]
		line = line[:strings.Index(line, "\n")]
		if o.Flag != "" && !strings.Contains(line, "`--"+o.Flag+"`") {
			t.Errorf("README.md row of %s lacks its flag --%s", o.Env, o.Flag)
		}
		if o.Default != "" && !o.Secret && !strings.Contains(line, "`"+o.Default+"`") {
			t.Errorf("README.md row of %s lacks its default %q", o.Env, o.Default)
		}
	}
}
